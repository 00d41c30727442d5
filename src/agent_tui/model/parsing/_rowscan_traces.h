/* per_trace: what one batch says about each trace in it (traces.columns._PerTrace's C-level passes, in
 * one pass): records, first and last record, earliest and latest time, most severe level. Included by
 * _rowscan.c. */
#ifndef AGENT_TUI_ROWSCAN_TRACES_H
#define AGENT_TUI_ROWSCAN_TRACES_H

#include "_rowscan_json.h"

typedef struct {
    PyObject *key; /* borrowed from the trace id list */
    Py_hash_t hash;
    Py_ssize_t count, first, last;
    double lo, hi;
    int has_lo, has_hi;
    unsigned char top;
} TraceSlot;

/* The slot of id (its first record k), found or added: open addressing over table (power-of-two size,
 * at most half full), each entry an index into slots plus one (0: empty). NULL on error. */
static TraceSlot *
slot_of(PyObject *id, Py_ssize_t k, Py_ssize_t *table, size_t mask, TraceSlot *slots, Py_ssize_t *used)
{
    Py_hash_t hash = PyObject_Hash(id);
    if (hash == -1) {
        return NULL;
    }
    for (size_t h = (size_t)hash & mask;; h = (h + 1) & mask) {
        Py_ssize_t at = table[h];
        if (at == 0) {
            TraceSlot *slot = &slots[*used];
            table[h] = ++*used;
            *slot = (TraceSlot){.key = id, .hash = hash, .first = k, .last = k};
            return slot;
        }
        TraceSlot *slot = &slots[at - 1];
        if (slot->hash == hash) {
            int same = slot->key == id ? 1 : PyObject_RichCompareBool(slot->key, id, Py_EQ);
            if (same < 0) {
                return NULL;
            }
            if (same) {
                return slot;
            }
        }
    }
}

/* A dict of each slot's key to make(slot), in slot order (first sight); a slot make gives NULL without
 * an error has no entry. */
static PyObject *
slot_dict(TraceSlot *slots, Py_ssize_t used, PyObject *(*make)(const TraceSlot *, PyObject *), PyObject *ts)
{
    PyObject *dict = PyDict_New();
    for (Py_ssize_t i = 0; dict != NULL && i < used; i++) {
        PyObject *value = make(&slots[i], ts);
        if (value == NULL ? PyErr_Occurred() != NULL : PyDict_SetItem(dict, slots[i].key, value) < 0) {
            Py_CLEAR(dict);
        }
        Py_XDECREF(value);
    }
    return dict;
}

static PyObject *make_count(const TraceSlot *s, PyObject *ts) { (void)ts; return PyLong_FromSsize_t(s->count); }
static PyObject *make_first(const TraceSlot *s, PyObject *ts) { (void)ts; return PyLong_FromSsize_t(s->first); }
static PyObject *make_last(const TraceSlot *s, PyObject *ts) { (void)ts; return PyLong_FromSsize_t(s->last); }
static PyObject *make_top(const TraceSlot *s, PyObject *ts) { (void)ts; return PyLong_FromLong(s->top); }

/* Sorted times: the time of the first and of the last record (the objects themselves from a list). */
static PyObject *
time_at(PyObject *ts, Py_ssize_t k)
{
    if (PyList_CheckExact(ts)) {
        return Py_NewRef(PyList_GET_ITEM(ts, k));
    }
    return PySequence_GetItem(ts, k);
}
static PyObject *make_lo_at(const TraceSlot *s, PyObject *ts) { return time_at(ts, s->first); }
static PyObject *make_hi_at(const TraceSlot *s, PyObject *ts) { return time_at(ts, s->last); }
/* Unsorted times: the earliest and latest as traces.columns._min_max compares them; a trace whose times
 * never compared (NaN) has no entry. */
static PyObject *make_lo(const TraceSlot *s, PyObject *ts) { (void)ts; return s->has_lo ? PyFloat_FromDouble(s->lo) : NULL; }
static PyObject *make_hi(const TraceSlot *s, PyObject *ts) { (void)ts; return s->has_hi ? PyFloat_FromDouble(s->hi) : NULL; }

static PyObject *
per_trace(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "per_trace(trace_ids, ts, levels, ts_sorted)");
        return NULL;
    }
    int sorted = PyObject_IsTrue(args[3]);
    if (sorted < 0) {
        return NULL;
    }
    PyObject *ts = args[1], *seq = NULL, *times = NULL, *result = NULL;
    Py_buffer levels = {0};
    Py_ssize_t *table = NULL;
    TraceSlot *slots = NULL;
    if ((seq = PySequence_Fast(args[0], "trace_ids must be a sequence")) == NULL
        || PyObject_GetBuffer(args[2], &levels, PyBUF_SIMPLE) < 0) {
        goto done;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    if (levels.len < n || PySequence_Size(ts) < n) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_ValueError, "a time and a level for each trace id");
        }
        goto done;
    }
    if (!sorted && (times = PySequence_Fast(ts, "ts must be a sequence")) == NULL) {
        goto done;
    }
    size_t size = 8;
    while (size < 2 * (size_t)n) {
        size <<= 1;
    }
    table = PyMem_Calloc(size, sizeof(Py_ssize_t));
    slots = PyMem_Malloc(((size_t)n + 1) * sizeof(TraceSlot));
    if (table == NULL || slots == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    const unsigned char *level = levels.buf;
    Py_ssize_t used = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *id = PySequence_Fast_GET_ITEM(seq, k);
        if (id == Py_None) {
            continue;
        }
        TraceSlot *slot = slot_of(id, k, table, size - 1, slots, &used);
        if (slot == NULL) {
            goto done;
        }
        slot->count++;
        slot->last = k;
        if (level[k] > slot->top) {
            slot->top = level[k];
        }
        if (!sorted) {
            double t = PyFloat_AsDouble(PySequence_Fast_GET_ITEM(times, k));
            if (t == -1.0 && PyErr_Occurred()) {
                goto done;
            }
            if (t < (slot->has_lo ? slot->lo : t + 1.0)) {
                slot->lo = t;
                slot->has_lo = 1;
            }
            if (t > (slot->has_hi ? slot->hi : t - 1.0)) {
                slot->hi = t;
                slot->has_hi = 1;
            }
        }
    }
    PyObject *out[6] = {NULL};
    out[0] = slot_dict(slots, used, make_count, NULL);
    out[1] = out[0] ? slot_dict(slots, used, make_last, NULL) : NULL;
    out[2] = out[1] ? slot_dict(slots, used, make_first, NULL) : NULL;
    out[3] = out[2] ? slot_dict(slots, used, sorted ? make_lo_at : make_lo, ts) : NULL;
    out[4] = out[3] ? slot_dict(slots, used, sorted ? make_hi_at : make_hi, ts) : NULL;
    out[5] = out[4] ? slot_dict(slots, used, make_top, NULL) : NULL;
    if (out[5] != NULL) {
        result = PyTuple_Pack(6, out[0], out[1], out[2], out[3], out[4], out[5]);
    }
    for (int i = 0; i < 6; i++) {
        Py_XDECREF(out[i]);
    }
done:
    if (levels.obj != NULL) {
        PyBuffer_Release(&levels);
    }
    PyMem_Free(table);
    PyMem_Free(slots);
    Py_XDECREF(seq);
    Py_XDECREF(times);
    return result;
}

/* Interner lookups of many keys at once: each key's int, a new key added as Interner.__missing__ adds
 * it (next index, appended to ``strings``; None gives ``none``; past ``cap`` a new key gives ``full``). */
static PyObject *
intern_all(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 2 || !PyDict_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "intern_all(interner, keys)");
        return NULL;
    }
    PyObject *interner = args[0], *strings = NULL, *cap = NULL, *none = NULL, *full = NULL, *seq = NULL,
             *out = NULL;
    Py_ssize_t most = PY_SSIZE_T_MAX;
    if ((strings = PyObject_GetAttrString(interner, "strings")) == NULL || !PyList_CheckExact(strings)
        || (cap = PyObject_GetAttrString(interner, "cap")) == NULL
        || (none = PyObject_GetAttrString(interner, "none")) == NULL
        || (full = PyObject_GetAttrString(interner, "full")) == NULL
        || (cap != Py_None && (most = PyLong_AsSsize_t(cap)) == -1 && PyErr_Occurred())
        || (seq = PySequence_Fast(args[1], "keys must be a sequence")) == NULL) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_TypeError, "interner.strings must be a list");
        }
        goto done;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    if ((out = PyList_New(n)) == NULL) {
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *key = PySequence_Fast_GET_ITEM(seq, i);
        PyObject *value = PyDict_GetItemWithError(interner, key);
        if (value != NULL) {
            Py_INCREF(value);
        }
        else if (PyErr_Occurred()) {
            Py_CLEAR(out);
            goto done;
        }
        else if (key == Py_None) {
            value = Py_NewRef(none);
        }
        else if (PyList_GET_SIZE(strings) >= most) {
            value = Py_NewRef(full);
        }
        else if ((value = PyLong_FromSsize_t(PyList_GET_SIZE(strings))) == NULL
                 || PyList_Append(strings, key) < 0 || PyDict_SetItem(interner, key, value) < 0) {
            Py_XDECREF(value);
            Py_CLEAR(out);
            goto done;
        }
        PyList_SET_ITEM(out, i, value);
    }
done:
    Py_XDECREF(strings);
    Py_XDECREF(cap);
    Py_XDECREF(none);
    Py_XDECREF(full);
    Py_XDECREF(seq);
    return out;
}

#endif
