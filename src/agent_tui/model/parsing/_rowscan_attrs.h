/* scan_side: the few top-level keys sums and signals read (as msgspec's projection and to_builtins would
 * give them, PartialAttrs), and what sums and signals make of them, compiled. Included by _rowscan.c. */
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

/* Read one object's members (keys found in keys become names[role]); nested_of tells, for a top-level
 * read, where a nested key's inner keys are. A top-level read puts a new reference to each value in
 * found[role] (the caller releases them; a slot already set is a duplicate key); a nested object's read
 * (found NULL) puts them into dict. 1 read, 0 left to the Python path, -1 error. */
static int
attr_object(const char **pp, const char *e, const Keys *keys, PyObject *const *names, Py_ssize_t nkeys,
            const AttrKeys *nested_of, PyObject *dict, PyObject **found)
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
            int has = found != NULL ? found[slot->role] != NULL : PyDict_Contains(dict, name);
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
                                       MAX_ATTR_KEYS, NULL, value, NULL);
                if (read != 1) {
                    Py_DECREF(value);
                    return read;
                }
            }
            else if ((value = attr_scalar(&p, e)) == NULL) {
                return PyErr_Occurred() ? -1 : 0;
            }
            if (found != NULL) {
                found[slot->role] = value; /* the reference moves there */
            }
            else {
                int failed = PyDict_SetItem(dict, name, value);
                Py_DECREF(value);
                if (failed) {
                    return -1;
                }
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

/* scan_side: what sums and signals take from the side keys, worked out here (traces.sums.sum_values and
 * analysis.signals.retry_keyed, compiled): for each line, its side keys as PartialAttrs reads them,
 * then the summed values of a traced record holding a summed key, and the dict itself when its record
 * has a retry counter or a 429/503 status. */

#define MAX_SIDE 8

typedef struct {
    int money[3];             /* roles of amount, payout, cost: kept when an int or a float, else 0.0 */
    int pairs[MAX_SIDE][2];   /* roles of the token (input, output) keys, in the order they are tried */
    PyObject *inner[MAX_SIDE][2]; /* the same keys, looked up inside the nested object */
    Py_ssize_t npairs;
    int usage;                /* role of the nested object tokens are also looked up in */
    int counts[MAX_SIDE];     /* roles of the retry counters: their presence makes a record keyed */
    Py_ssize_t ncounts;
    int statuses[MAX_SIDE];   /* roles of the status keys, in the order the status is looked up */
    Py_ssize_t nstatuses;
} SideSpec;

/* The role of key among the scan's keys (its top-level keys, then its nested ones), -1 when absent. */
static int
role_of(const AttrKeys *ak, PyObject *key)
{
    if (!PyUnicode_CheckExact(key)) {
        return -2;
    }
    for (Py_ssize_t i = 0; i < ak->nkeys + ak->nnested; i++) {
        int same = PyUnicode_Compare(ak->names[i], key);
        if (same == 0) {
            return (int)i;
        }
        if (same == -1 && PyErr_Occurred()) {
            return -2;
        }
    }
    return -1;
}

static int
roles_of(const AttrKeys *ak, PyObject *t, int *roles, Py_ssize_t most, Py_ssize_t *n)
{
    if (!PyTuple_Check(t) || PyTuple_GET_SIZE(t) > most) {
        return -1;
    }
    *n = PyTuple_GET_SIZE(t);
    for (Py_ssize_t i = 0; i < *n; i++) {
        if ((roles[i] = role_of(ak, PyTuple_GET_ITEM(t, i))) == -2) {
            return -1;
        }
    }
    return 0;
}

static int
side_spec_fill(SideSpec *s, const AttrKeys *ak, PyObject *spec)
{
    Py_ssize_t three, two;
    PyObject *pairs;
    if (!PyTuple_Check(spec) || PyTuple_GET_SIZE(spec) != 5
        || roles_of(ak, PyTuple_GET_ITEM(spec, 0), s->money, 3, &three) < 0 || three != 3
        || !PyTuple_Check(pairs = PyTuple_GET_ITEM(spec, 1)) || PyTuple_GET_SIZE(pairs) > MAX_SIDE
        || (s->usage = role_of(ak, PyTuple_GET_ITEM(spec, 2))) == -2
        || roles_of(ak, PyTuple_GET_ITEM(spec, 3), s->counts, MAX_SIDE, &s->ncounts) < 0
        || roles_of(ak, PyTuple_GET_ITEM(spec, 4), s->statuses, MAX_SIDE, &s->nstatuses) < 0) {
        goto bad;
    }
    s->npairs = PyTuple_GET_SIZE(pairs);
    for (Py_ssize_t i = 0; i < s->npairs; i++) {
        PyObject *pair = PyTuple_GET_ITEM(pairs, i);
        if (roles_of(ak, pair, s->pairs[i], 2, &two) < 0 || two != 2) {
            goto bad;
        }
        s->inner[i][0] = PyTuple_GET_ITEM(pair, 0);
        s->inner[i][1] = PyTuple_GET_ITEM(pair, 1);
    }
    return 0;
bad:
    if (!PyErr_Occurred()) {
        PyErr_SetString(PyExc_TypeError, "spec: (money keys x3, token (input, output) pairs, usage key, "
                                         "counter keys, status keys)");
    }
    return -1;
}

static inline PyObject *
at(PyObject *const *found, int role)
{
    return role < 0 ? NULL : found[role];
}

static inline int
is_number(PyObject *v)
{
    return v != NULL && (PyLong_CheckExact(v) || PyFloat_CheckExact(v)); /* bool is no number here */
}

/* int(out) + int(used) when used is a number, else int(out): a new reference, or NULL (error). */
static PyObject *
token_total(PyObject *out, PyObject *used)
{
    PyObject *total = PyNumber_Long(out);
    if (total == NULL || !is_number(used)) {
        return total;
    }
    PyObject *more = PyNumber_Long(used);
    if (more == NULL) {
        Py_DECREF(total);
        return NULL;
    }
    Py_SETREF(total, PyNumber_Add(total, more));
    Py_DECREF(more);
    return total;
}

/* The tokens of the first pair with a numeric output, at the top (found) or inside nested: a new
 * reference, or NULL with no error set when no pair has one. */
static PyObject *
tokens_in(PyObject *const *found, PyObject *nested, const SideSpec *s)
{
    for (Py_ssize_t i = 0; i < s->npairs; i++) {
        PyObject *out, *used;
        if (nested == NULL) {
            out = at(found, s->pairs[i][1]);
            used = at(found, s->pairs[i][0]);
        }
        else if ((out = PyDict_GetItemWithError(nested, s->inner[i][1])) == NULL
                 || (used = PyDict_GetItemWithError(nested, s->inner[i][0])) == NULL) {
            if (PyErr_Occurred()) {
                return NULL;
            }
            used = NULL;
        }
        if (is_number(out)) {
            return token_total(out, used);
        }
    }
    return NULL;
}

/* sum_values of a record holding a summed key: 1 with *out a new tuple, 0 when it holds none, -1 error. */
static int
sums_of(PyObject *const *found, const SideSpec *s, PyObject *zero, PyObject **out)
{
    PyObject *money[3], *usage = at(found, s->usage);
    int top_tokens = 0, found_any = usage != NULL;
    for (int i = 0; i < 3; i++) {
        found_any |= (money[i] = at(found, s->money[i])) != NULL;
    }
    for (Py_ssize_t i = 0; i < s->npairs && !top_tokens; i++) {
        top_tokens = at(found, s->pairs[i][1]) != NULL;
    }
    if (!found_any && !top_tokens) {
        return 0;
    }
    PyObject *nested = usage != NULL && PyDict_CheckExact(usage) ? usage : NULL, *tokens = NULL;
    if (nested != NULL || top_tokens) {
        /* the top level first, then the nested object, until one gives non-zero tokens */
        tokens = tokens_in(found, NULL, s);
        int truth = tokens == NULL ? 0 : PyObject_IsTrue(tokens);
        if (truth == 0 && nested != NULL && !PyErr_Occurred()) {
            Py_XSETREF(tokens, tokens_in(found, nested, s));
        }
        else if (truth < 0) {
            Py_CLEAR(tokens);
        }
        if (PyErr_Occurred()) {
            Py_XDECREF(tokens);
            return -1;
        }
    }
    if (tokens == NULL && (tokens = PyLong_FromLong(0)) == NULL) {
        return -1;
    }
    for (int i = 0; i < 3; i++) {
        money[i] = is_number(money[i]) ? money[i] : zero;
    }
    *out = PyTuple_Pack(4, money[0], money[1], money[2], tokens);
    Py_DECREF(tokens);
    return *out == NULL ? -1 : 1;
}

/* Whether a status string is all digits (str.isdigit, done here for ASCII text). */
static int
is_digits(PyObject *v)
{
    if (PyUnicode_IS_ASCII(v)) {
        Py_ssize_t n = PyUnicode_GET_LENGTH(v);
        const char *c = (const char *)PyUnicode_DATA(v);
        for (Py_ssize_t i = 0; i < n; i++) {
            if (!is_digit(c[i])) {
                return 0;
            }
        }
        return n > 0;
    }
    PyObject *digits = PyObject_CallMethod(v, "isdigit", NULL);
    if (digits == NULL) {
        return -1;
    }
    int is = digits == Py_True;
    Py_DECREF(digits);
    return is;
}

/* The record's status as analysis.signals._status finds it is 429 or 503: 1, else 0, -1 error. */
static int
retry_status(PyObject *const *found, const SideSpec *s)
{
    for (Py_ssize_t i = 0; i < s->nstatuses; i++) {
        PyObject *v = at(found, s->statuses[i]), *number;
        if (v != NULL && PyLong_CheckExact(v)) {
            number = Py_NewRef(v);
        }
        else if (v != NULL && PyUnicode_CheckExact(v)) {
            int digits = is_digits(v);
            if (digits <= 0) {
                if (digits < 0) {
                    return -1;
                }
                continue;
            }
            if ((number = PyLong_FromUnicodeObject(v, 10)) == NULL) {
                return -1; /* as int() raises there (a digit Python cannot read as a number) */
            }
        }
        else {
            continue;
        }
        int overflow;
        long status = PyLong_AsLongAndOverflow(number, &overflow);
        Py_DECREF(number);
        if (status == -1 && PyErr_Occurred()) {
            return -1;
        }
        return !overflow && (status == 429 || status == 503);
    }
    return 0;
}

static int
is_keyed(PyObject *const *found, const SideSpec *s)
{
    for (Py_ssize_t i = 0; i < s->ncounts; i++) {
        if (at(found, s->counts[i]) != NULL) {
            return 1;
        }
    }
    return retry_status(found, s);
}

/* found's values as the dict PartialAttrs would give (a new reference). */
static PyObject *
dict_of(PyObject *const *found, const AttrKeys *ak)
{
    PyObject *dict = PyDict_New();
    for (Py_ssize_t i = 0; dict != NULL && i < ak->nkeys + ak->nnested; i++) {
        if (found[i] != NULL && PyDict_SetItem(dict, ak->names[i], found[i]) < 0) {
            Py_CLEAR(dict);
        }
    }
    return dict;
}

/* One line's side values into sums and keyed: 1 done, 0 left to the Python path, -1 error. */
static int
side_line(PyObject *line, Py_ssize_t i, PyObject *tid, const AttrKeys *ak, const SideSpec *spec,
          PyObject *zero, PyObject *sums, PyObject *keyed)
{
    PyObject *found[MAX_ATTR_KEYS] = {NULL};
    if (!PyBytes_CheckExact(line)) {
        return 0;
    }
    const char *p = PyBytes_AS_STRING(line), *e = p + PyBytes_GET_SIZE(line);
    p = skip_ws(p, e);
    if (p >= e || *p != '{') {
        return 0;
    }
    p++;
    int read = attr_object(&p, e, &ak->keys, ak->names, ak->nkeys, ak, NULL, found);
    if (read == 1 && skip_ws(p, e) != e) {
        read = 0;
    }
    PyObject *tuple = NULL, *k = NULL, *dict = NULL;
    if (read == 1) {
        int summed = tid == Py_None ? 0 : sums_of(found, spec, zero, &tuple);
        int retried = summed < 0 ? -1 : is_keyed(found, spec);
        if (summed < 0 || retried < 0
            || ((summed || retried) && (k = PyLong_FromSsize_t(i)) == NULL)
            || (summed && PyDict_SetItem(sums, k, tuple) < 0)
            || (retried && ((dict = dict_of(found, ak)) == NULL || PyDict_SetItem(keyed, k, dict) < 0))) {
            read = -1;
        }
    }
    Py_XDECREF(tuple);
    Py_XDECREF(k);
    Py_XDECREF(dict);
    for (Py_ssize_t r = 0; r < ak->nkeys + ak->nnested; r++) {
        Py_XDECREF(found[r]);
    }
    return read;
}

static PyObject *
scan_side(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 9) {
        PyErr_SetString(PyExc_TypeError,
                        "scan_side(lines, start, keys, nested, refused, spec, trace_ids, sums, keyed)");
        return NULL;
    }
    Py_ssize_t start = PyLong_AsSsize_t(args[1]);
    if (start == -1 && PyErr_Occurred()) {
        return NULL;
    }
    PyObject *sums = args[7], *keyed = args[8];
    if (!PyDict_CheckExact(sums) || !PyDict_CheckExact(keyed)) {
        PyErr_SetString(PyExc_TypeError, "sums and keyed must be dicts");
        return NULL;
    }
    AttrKeys *ak = PyMem_Malloc(sizeof(AttrKeys));
    SideSpec *spec = PyMem_Malloc(sizeof(SideSpec));
    PyObject *seq = NULL, *tids = NULL, *zero = NULL, *result = NULL;
    if (ak == NULL || spec == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if (attr_keys_fill(ak, args[2], args[3], args[4]) < 0 || side_spec_fill(spec, ak, args[5]) < 0
        || (seq = PySequence_Fast(args[0], "lines must be a sequence")) == NULL
        || (tids = PySequence_Fast(args[6], "trace_ids must be a sequence")) == NULL
        || (zero = PyFloat_FromDouble(0.0)) == NULL) {
        goto done;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq), i = start;
    if (PySequence_Fast_GET_SIZE(tids) < n) {
        PyErr_SetString(PyExc_ValueError, "a trace id for each line");
        goto done;
    }
    for (; i < n; i++) {
        int read = side_line(PySequence_Fast_GET_ITEM(seq, i), i, PySequence_Fast_GET_ITEM(tids, i), ak,
                             spec, zero, sums, keyed);
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
    PyMem_Free(spec);
    Py_XDECREF(seq);
    Py_XDECREF(tids);
    Py_XDECREF(zero);
    return result;
}

#endif
