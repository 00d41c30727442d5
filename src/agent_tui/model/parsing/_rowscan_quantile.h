/* Quantile: analysis.quantile.RunningQuantile compiled. The same two heaps split at the quantile, moved
 * by a port of CPython's heapq (the same comparisons in the same order, so the same value comes out on
 * top, signed zeros and NaNs included), holding C doubles: 8 bytes a value instead of a 24-byte float
 * object and its 8-byte list slot. Included by _rowscan.c. */
#ifndef AGENT_TUI_ROWSCAN_QUANTILE_H
#define AGENT_TUI_ROWSCAN_QUANTILE_H

#include "_rowscan_json.h"

typedef struct {
    double *v;
    Py_ssize_t n, cap;
} Heap;

static int
heap_reserve(Heap *h, Py_ssize_t more)
{
    if (h->n + more <= h->cap) {
        return 0;
    }
    Py_ssize_t cap = h->cap < 16 ? 16 : h->cap + h->cap / 2;
    while (cap < h->n + more) {
        cap += cap / 2;
    }
    double *v = PyMem_Realloc(h->v, (size_t)cap * sizeof(double));
    if (v == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    h->v = v;
    h->cap = cap;
    return 0;
}

/* heapq's _siftdown: the item at pos moves up while smaller than its parent. */
static void
sift_down(double *heap, Py_ssize_t start, Py_ssize_t pos)
{
    double item = heap[pos];
    while (pos > start) {
        Py_ssize_t parent = (pos - 1) >> 1;
        if (!(item < heap[parent])) {
            break;
        }
        heap[pos] = heap[parent];
        pos = parent;
    }
    heap[pos] = item;
}

/* heapq's _siftup: the smaller child moves up to the leaf, then the item sifts down from there. */
static void
sift_up(double *heap, Py_ssize_t end, Py_ssize_t pos)
{
    Py_ssize_t start = pos, limit = end >> 1;
    double item = heap[pos];
    while (pos < limit) {
        Py_ssize_t child = 2 * pos + 1;
        if (child + 1 < end && !(heap[child] < heap[child + 1])) {
            child += 1;
        }
        heap[pos] = heap[child];
        pos = child;
    }
    heap[pos] = item;
    sift_down(heap, start, pos);
}

static int
heap_push(Heap *h, double item)
{
    if (heap_reserve(h, 1) < 0) {
        return -1;
    }
    h->v[h->n++] = item;
    sift_down(h->v, 0, h->n - 1);
    return 0;
}

static double
heap_pop(Heap *h) /* h is not empty */
{
    double last = h->v[--h->n];
    if (h->n == 0) {
        return last;
    }
    double top = h->v[0];
    h->v[0] = last;
    sift_up(h->v, h->n, 0);
    return top;
}

static double
heap_pushpop(Heap *h, double item)
{
    if (h->n == 0 || !(h->v[0] < item)) {
        return item;
    }
    double top = h->v[0];
    h->v[0] = item;
    sift_up(h->v, h->n, 0);
    return top;
}

typedef struct {
    PyObject_HEAD
    double q;     /* as given */
    double q0;    /* max(q, 0): ceil(q0 n) or 1 is max(1, ceil(q n)) */
    Py_ssize_t n; /* values in the heaps */
    Heap low;     /* negated: a max-heap of the ceil(q n) smallest values */
    Heap high;    /* a min-heap of the rest */
    Heap queued;  /* values given to later, in order (not a heap) */
} Quantile;

static Py_ssize_t
wanted(const Quantile *self)
{
    Py_ssize_t want = (Py_ssize_t)ceil(self->q0 * (double)self->n);
    return want ? want : 1;
}

static int
rebalance(Quantile *self, Py_ssize_t want)
{
    while (self->low.n < want && self->high.n) {
        if (heap_push(&self->low, -heap_pop(&self->high)) < 0) {
            return -1;
        }
    }
    while (self->low.n > want) {
        if (heap_push(&self->high, -heap_pop(&self->low)) < 0) {
            return -1;
        }
    }
    return 0;
}

/* One value into its side of the split (the low side when it is at most the split's top). */
static int
place(Quantile *self, double value)
{
    if (self->low.n && value <= -self->low.v[0]) {
        return heap_push(&self->low, -value);
    }
    return heap_push(&self->high, value);
}

static int
take_queued(Quantile *self)
{
    for (Py_ssize_t i = 0; i < self->queued.n; i++) {
        if (place(self, self->queued.v[i]) < 0) {
            return -1;
        }
    }
    self->n += self->queued.n;
    self->queued.n = 0;
    return rebalance(self, wanted(self));
}

static int
quantile_add(Quantile *self, double value)
{
    if (self->queued.n && take_queued(self) < 0) {
        return -1;
    }
    self->n += 1;
    Py_ssize_t grow = wanted(self) - self->low.n;
    /* with 0 <= q <= 1 the split moves by at most one place per value */
    if (grow == 1) {
        if (!self->low.n || value <= -self->low.v[0]) {
            return heap_push(&self->low, -value);
        }
        return heap_push(&self->low, -heap_pushpop(&self->high, value));
    }
    if (grow == 0) {
        if (self->low.n && value < -self->low.v[0]) {
            return heap_push(&self->high, -heap_pushpop(&self->low, -value));
        }
        return heap_push(&self->high, value);
    }
    Py_ssize_t want = grow + self->low.n; /* as wanted(self), before the value is placed */
    if (place(self, value) < 0) {
        return -1;
    }
    return rebalance(self, want);
}

static PyObject *
Quantile_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    double q;
    static char *names[] = {"q", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "d:Quantile", names, &q)) {
        return NULL;
    }
    Quantile *self = (Quantile *)type->tp_alloc(type, 0);
    if (self != NULL) {
        self->q = q;
        self->q0 = q > 0.0 ? q : 0.0;
    }
    return (PyObject *)self;
}

static void
Quantile_dealloc(Quantile *self)
{
    PyMem_Free(self->low.v);
    PyMem_Free(self->high.v);
    PyMem_Free(self->queued.v);
    PyTypeObject *type = Py_TYPE(self);
    type->tp_free((PyObject *)self);
    Py_DECREF(type);
}

static PyObject *
Quantile_add(Quantile *self, PyObject *arg)
{
    double value = PyFloat_AsDouble(arg);
    if ((value == -1.0 && PyErr_Occurred()) || quantile_add(self, value) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
Quantile_later(Quantile *self, PyObject *arg)
{
    double value = PyFloat_AsDouble(arg);
    if ((value == -1.0 && PyErr_Occurred()) || heap_reserve(&self->queued, 1) < 0) {
        return NULL;
    }
    self->queued.v[self->queued.n++] = value;
    Py_RETURN_NONE;
}

static PyObject *
Quantile_value(Quantile *self, void *closure)
{
    (void)closure;
    if (self->queued.n && take_queued(self) < 0) {
        return NULL;
    }
    return PyFloat_FromDouble(self->low.n ? -self->low.v[0] : 0.0);
}

static PyObject *
Quantile_q(Quantile *self, void *closure)
{
    (void)closure;
    return PyFloat_FromDouble(self->q);
}

static PyObject *
Quantile_held(Quantile *self, PyObject *unused)
{
    (void)unused;
    PyObject *out = PyList_New(0);
    Heap *sides[3] = {&self->low, &self->high, &self->queued};
    for (int s = 0; out != NULL && s < 3; s++) {
        for (Py_ssize_t i = 0; i < sides[s]->n; i++) {
            PyObject *f = PyFloat_FromDouble(s == 0 ? -sides[s]->v[i] : sides[s]->v[i]);
            if (f == NULL || PyList_Append(out, f) < 0) {
                Py_XDECREF(f);
                Py_CLEAR(out);
                break;
            }
            Py_DECREF(f);
        }
    }
    return out;
}

static Py_ssize_t
Quantile_len(Quantile *self)
{
    return self->n + self->queued.n;
}

static PyMethodDef Quantile_methods[] = {
    {"add", (PyCFunction)Quantile_add, METH_O, "Take in one value."},
    {"later", (PyCFunction)Quantile_later, METH_O,
     "Take in one value when the quantile is next read (cheaper for a quantile read rarely)."},
    {"held", (PyCFunction)Quantile_held, METH_NOARGS, "The values taken in so far, in no order."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Quantile_getset[] = {
    {"value", (getter)Quantile_value, NULL, "The quantile (0.0 when empty).", NULL},
    {"q", (getter)Quantile_q, NULL, "The quantile asked for.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot Quantile_slots[] = {
    {Py_tp_new, Quantile_new},
    {Py_tp_dealloc, Quantile_dealloc},
    {Py_tp_methods, Quantile_methods},
    {Py_tp_getset, Quantile_getset},
    {Py_sq_length, Quantile_len},
    {Py_tp_doc, "Quantile(q): the exact nearest-rank q quantile of every value added so far."},
    {0, NULL},
};

static PyType_Spec Quantile_spec = {
    "agent_tui.model.parsing._rowscan.Quantile", sizeof(Quantile), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE, Quantile_slots,
};

#endif
