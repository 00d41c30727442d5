/* scan_attrs: PartialAttrs.of_lines compiled (a dict of the few top-level keys sums and signals read,
 * as msgspec's projection and to_builtins would give it). Included by _rowscan.c. */
#ifndef AGENT_TUI_ROWSCAN_ATTRS_H
#define AGENT_TUI_ROWSCAN_ATTRS_H

#include "_rowscan_json.h"

#define MAX_ATTR_KEYS 64

typedef struct {
    Keys keys;     /* top-level: role i < nkeys a scalar key, nkeys + j nested key j, REFUSED */
    Keys inner[8]; /* per nested key: role i its i-th inner key */
    PyObject *names[MAX_ATTR_KEYS];
    PyObject *inner_names[8][MAX_ATTR_KEYS];
    Py_ssize_t nkeys, nnested;
} AttrKeys;

/* A scalar as msgspec decodes it for a Scalar field, or NULL (no error set) when the scan leaves it. */
static PyObject *
attr_scalar(const char **pp, const char *e)
{
    Value v;
    const char *end = read_scalar(*pp, e, &v, 1);
    if (end == NULL) {
        return NULL;
    }
    *pp = end;
    return scalar_of(&v);
}

/* Read one object's members into dict (keys found in keys become names[role]); nested_of tells, for a
 * top-level read, where a nested key's inner keys are. 1 read, 0 left to the Python path, -1 error. */
static int
attr_object(const char **pp, const char *e, const Keys *keys, PyObject *const *names, Py_ssize_t nkeys,
            const AttrKeys *nested_of, PyObject *dict)
{
    const char *p = skip_ws(*pp, e);
    if (p < e && *p == '}') {
        *pp = p + 1;
        return 1;
    }
    for (;;) {
        const Slot *slot;
        if ((p = member_key(p, e, keys, &slot)) == NULL) {
            return 0;
        }
        if (slot == NULL) {
            if ((p = skip_value(p, e, 1)) == NULL) {
                return 0;
            }
        }
        else if (slot->role == REFUSED) {
            return 0;
        }
        else {
            PyObject *name = slot->role < nkeys ? names[slot->role] : nested_of->names[slot->role];
            int has = PyDict_Contains(dict, name);
            if (has != 0) {
                return has < 0 ? -1 : 0; /* a duplicate key: the last one wins there */
            }
            PyObject *value;
            if (slot->role >= nkeys && p < e && *p == '{') {
                Py_ssize_t j = slot->role - nkeys;
                value = PyDict_New();
                if (value == NULL) {
                    return -1;
                }
                p++;
                int read = attr_object(&p, e, &nested_of->inner[j], nested_of->inner_names[j],
                                       MAX_ATTR_KEYS, NULL, value);
                if (read != 1) {
                    Py_DECREF(value);
                    return read;
                }
            }
            else if ((value = attr_scalar(&p, e)) == NULL) {
                return PyErr_Occurred() ? -1 : 0;
            }
            int failed = PyDict_SetItem(dict, name, value);
            Py_DECREF(value);
            if (failed) {
                return -1;
            }
        }
        int end = item_end(&p, e, '}');
        if (end < 0) {
            return 0; /* malformed: left to the Python path */
        }
        if (end == 1) {
            *pp = p;
            return 1;
        }
    }
}

static int
attr_keys_fill(AttrKeys *ak, PyObject *keys, PyObject *nested, PyObject *refused)
{
    memset(ak, 0, sizeof(*ak));
    if (!PyTuple_Check(keys) || !PyTuple_Check(nested) || !PyTuple_Check(refused)) {
        PyErr_SetString(PyExc_TypeError, "keys, nested and refused must be tuples");
        return -1;
    }
    ak->nkeys = PyTuple_GET_SIZE(keys);
    ak->nnested = PyTuple_GET_SIZE(nested);
    if (ak->nkeys + ak->nnested > MAX_ATTR_KEYS || ak->nnested > 8) {
        PyErr_SetString(PyExc_ValueError, "too many keys");
        return -1;
    }
    for (Py_ssize_t i = 0; i < ak->nkeys; i++) {
        ak->names[i] = PyTuple_GET_ITEM(keys, i);
        if (keys_add(&ak->keys, ak->names[i], (int)i) < 0) {
            return -1;
        }
    }
    for (Py_ssize_t j = 0; j < ak->nnested; j++) {
        PyObject *pair = PyTuple_GET_ITEM(nested, j), *inner;
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2 || !PyTuple_Check(inner = PyTuple_GET_ITEM(pair, 1))
            || PyTuple_GET_SIZE(inner) > MAX_ATTR_KEYS) {
            PyErr_SetString(PyExc_TypeError, "nested: (key, (inner keys...)) pairs");
            return -1;
        }
        ak->names[ak->nkeys + j] = PyTuple_GET_ITEM(pair, 0);
        if (keys_add(&ak->keys, ak->names[ak->nkeys + j], (int)(ak->nkeys + j)) < 0) {
            return -1;
        }
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(inner); i++) {
            ak->inner_names[j][i] = PyTuple_GET_ITEM(inner, i);
            if (keys_add(&ak->inner[j], ak->inner_names[j][i], (int)i) < 0) {
                return -1;
            }
        }
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(refused); i++) {
        if (keys_add(&ak->keys, PyTuple_GET_ITEM(refused, i), REFUSED) < 0) {
            return -1;
        }
    }
    return 0;
}

static PyObject *
scan_attrs(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError, "scan_attrs(lines, start, out, keys, nested, refused)");
        return NULL;
    }
    PyObject *out = args[2];
    Py_ssize_t start = PyLong_AsSsize_t(args[1]);
    if (start == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (!PyList_CheckExact(out)) {
        PyErr_SetString(PyExc_TypeError, "out must be a list");
        return NULL;
    }
    AttrKeys *ak = PyMem_Malloc(sizeof(AttrKeys));
    if (ak == NULL) {
        return PyErr_NoMemory();
    }
    PyObject *seq = NULL, *result = NULL;
    if (attr_keys_fill(ak, args[3], args[4], args[5]) < 0) {
        goto done;
    }
    if ((seq = PySequence_Fast(args[0], "lines must be a sequence")) == NULL) {
        goto done;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq), i = start;
    for (; i < n; i++) {
        PyObject *line = PySequence_Fast_GET_ITEM(seq, i);
        if (!PyBytes_CheckExact(line)) {
            break;
        }
        const char *p = PyBytes_AS_STRING(line), *e = p + PyBytes_GET_SIZE(line);
        p = skip_ws(p, e);
        if (p >= e || *p != '{') {
            break;
        }
        p++;
        PyObject *dict = PyDict_New();
        if (dict == NULL) {
            goto done;
        }
        int read = attr_object(&p, e, &ak->keys, ak->names, ak->nkeys, ak, dict);
        if (read == 1 && skip_ws(p, e) == e) {
            read = PyList_Append(out, dict) < 0 ? -1 : 1;
        }
        else if (read == 1) {
            read = 0;
        }
        Py_DECREF(dict);
        if (read < 0) {
            goto done;
        }
        if (read == 0) {
            break;
        }
    }
    result = PyLong_FromSsize_t(i);
done:
    PyMem_Free(ak);
    Py_XDECREF(seq);
    return result;
}

#endif
