/* The projected path of LineParser.parse_rows, compiled: read the seven role values of a JSON line
 * straight from its bytes and map them to a row, for as many lines in a row as it can.
 *
 * It accepts a line only when the Python path (msgspec projection, then the mapping loop) would map it
 * from exactly these values with no call into Python code: a plain JSON object, no refused key, each
 * chosen key at most once with a scalar value, a time whose whole second and fraction are already in
 * the parser's caches (or epoch milliseconds), a level already in the key's table, ids that need no
 * normalising. Anything else (an escape \u, a float, a control character, a nested role value, a cache
 * miss, a line that is no object) stops the scan at that line, which the Python path then maps: the
 * rows are the same either way, only sooner here. The caller's tests hold both paths to that.
 *
 * scan_attrs does the same for PartialAttrs.of_lines: a dict of the few top-level keys sums and signals
 * read, as msgspec's projection and to_builtins would give it.
 */
#include <math.h>
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define ROLES 7
#define TABLE 512 /* power of two; keys are at most a few hundred */
#define MAX_DEPTH 64
#define SECOND_CHARS 19 /* "YYYY-MM-DDTHH:MM:SS" */

enum { R_TS, R_LEVEL, R_EVENT, R_TRACE, R_SPAN, R_PARENT, R_OP };
enum { V_ABSENT, V_NULL, V_TRUE, V_FALSE, V_INT, V_STR };
#define REFUSED (-1)

typedef struct {
    const char *key;
    Py_ssize_t len;
    int role;
} Slot;

typedef struct {
    Slot slots[TABLE];
    int count; /* at most TABLE / 2, so a lookup always meets an empty slot */
} Keys;

typedef struct {
    int kind;
    const char *p; /* string bytes (between the quotes) */
    Py_ssize_t n;
    int escaped;   /* the string holds a backslash escape (none is \u) */
    int high;      /* the string holds a byte >= 0x80 */
    long long i;
} Value;

static inline uint32_t
hash_bytes(const char *p, Py_ssize_t n)
{
    uint32_t h = 2166136261u;
    for (Py_ssize_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 16777619u;
    }
    return h;
}

static int
keys_add(Keys *keys, PyObject *name, int role)
{
    Py_ssize_t n;
    const char *p = PyUnicode_AsUTF8AndSize(name, &n);
    if (p == NULL) {
        return -1;
    }
    uint32_t h = hash_bytes(p, n) & (TABLE - 1);
    for (;; h = (h + 1) & (TABLE - 1)) {
        Slot *slot = &keys->slots[h];
        if (slot->key == NULL) {
            if (keys->count >= TABLE / 2) {
                PyErr_SetString(PyExc_ValueError, "too many keys");
                return -1;
            }
            keys->count++;
            slot->key = p;
            slot->len = n;
            slot->role = role;
            return 0;
        }
        if (slot->len == n && memcmp(slot->key, p, (size_t)n) == 0) {
            return 0; /* the first role given for a key stands */
        }
    }
}

static inline const Slot *
keys_find(const Keys *keys, const char *p, Py_ssize_t n)
{
    uint32_t h = hash_bytes(p, n) & (TABLE - 1);
    for (;;) {
        const Slot *slot = &keys->slots[h];
        if (slot->key == NULL) {
            return NULL;
        }
        if (slot->len == n && memcmp(slot->key, p, (size_t)n) == 0) {
            return slot;
        }
        h = (h + 1) & (TABLE - 1);
    }
}

static inline const char *
skip_ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) {
        p++;
    }
    return p;
}

/* Whether any of 8 bytes is a quote, a backslash, a control character or not ASCII (SWAR). */
static inline int
special8(const char *p)
{
    const uint64_t ones = 0x0101010101010101ULL, top = 0x8080808080808080ULL;
    uint64_t w, quote, slash;
    memcpy(&w, p, 8);
    quote = w ^ (ones * '"');
    slash = w ^ (ones * '\\');
    return (((quote - ones) & ~quote) | ((slash - ones) & ~slash) | (w - ones * 0x20) | w) & top ? 1 : 0;
}

/* p is just past the opening quote; returns just past the closing one, or NULL (refused). */
static const char *
scan_string(const char *p, const char *e, int *escaped, int *high)
{
    while (e - p >= 8 && !special8(p)) {
        p += 8; /* plain ASCII text, eight bytes at a time */
    }
    while (p < e) {
        unsigned char c = (unsigned char)*p;
        if (c == '"') {
            return p + 1;
        }
        if (c == '\\') {
            if (p + 1 >= e) {
                return NULL;
            }
            switch (p[1]) {
            case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
                *escaped = 1;
                p += 2;
                continue;
            default: /* \u (surrogates are msgspec's and orjson's to judge) or invalid */
                return NULL;
            }
        }
        if (c < 0x20) {
            return NULL;
        }
        if (c >= 0x80) {
            *high = 1;
        }
        p++;
    }
    return NULL;
}

static inline int
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* A JSON number; *integer says whether it has no fraction or exponent. */
static const char *
scan_number(const char *p, const char *e, int *integer)
{
    *integer = 1;
    if (p < e && *p == '-') {
        p++;
    }
    if (p >= e || !is_digit(*p)) {
        return NULL;
    }
    if (*p == '0') {
        p++;
    }
    else {
        while (p < e && is_digit(*p)) {
            p++;
        }
    }
    if (p < e && *p == '.') {
        *integer = 0;
        p++;
        if (p >= e || !is_digit(*p)) {
            return NULL;
        }
        while (p < e && is_digit(*p)) {
            p++;
        }
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        *integer = 0;
        p++;
        if (p < e && (*p == '+' || *p == '-')) {
            p++;
        }
        const char *digits = p;
        while (p < e && is_digit(*p)) {
            p++;
        }
        if (p == digits || p - digits > 3) {
            return NULL; /* no exponent, or one that may overflow: left to the decoders */
        }
    }
    return p;
}

static inline const char *
scan_word(const char *p, const char *e, const char *word, size_t n)
{
    if ((size_t)(e - p) < n || memcmp(p, word, n) != 0) {
        return NULL;
    }
    return p + n;
}

static const char *skip_value(const char *p, const char *e, int depth);

static const char *
skip_container(const char *p, const char *e, int depth, char close, int keyed)
{
    int escaped = 0, high = 0;
    if (depth > MAX_DEPTH) {
        return NULL;
    }
    p = skip_ws(p, e);
    if (p < e && *p == close) {
        return p + 1;
    }
    for (;;) {
        if (keyed) {
            if (p >= e || *p != '"' || (p = scan_string(p + 1, e, &escaped, &high)) == NULL) {
                return NULL;
            }
            p = skip_ws(p, e);
            if (p >= e || *p != ':') {
                return NULL;
            }
            p = skip_ws(p + 1, e);
        }
        if ((p = skip_value(p, e, depth + 1)) == NULL) {
            return NULL;
        }
        p = skip_ws(p, e);
        if (p >= e) {
            return NULL;
        }
        if (*p == close) {
            return p + 1;
        }
        if (*p != ',') {
            return NULL;
        }
        p = skip_ws(p + 1, e);
    }
}

static const char *
skip_value(const char *p, const char *e, int depth)
{
    int escaped = 0, high = 0, integer;
    if (p >= e) {
        return NULL;
    }
    switch (*p) {
    case '"':
        return scan_string(p + 1, e, &escaped, &high);
    case '{':
        return skip_container(p + 1, e, depth, '}', 1);
    case '[':
        return skip_container(p + 1, e, depth, ']', 0);
    case 't':
        return scan_word(p, e, "true", 4);
    case 'f':
        return scan_word(p, e, "false", 5);
    case 'n':
        return scan_word(p, e, "null", 4);
    default:
        return scan_number(p, e, &integer);
    }
}

/* A chosen role's value: a scalar msgspec's projection takes as orjson would; floats are refused (no
 * role maps one without Python code). Returns just past it, or NULL. */
static const char *
read_value(const char *p, const char *e, Value *v)
{
    int integer;
    if (p >= e) {
        return NULL;
    }
    switch (*p) {
    case '"': {
        v->kind = V_STR;
        v->escaped = v->high = 0;
        const char *end = scan_string(p + 1, e, &v->escaped, &v->high);
        if (end == NULL) {
            return NULL;
        }
        v->p = p + 1;
        v->n = end - 1 - v->p;
        return end;
    }
    case 't':
        v->kind = V_TRUE;
        return scan_word(p, e, "true", 4);
    case 'f':
        v->kind = V_FALSE;
        return scan_word(p, e, "false", 5);
    case 'n':
        v->kind = V_NULL;
        return scan_word(p, e, "null", 4);
    default: {
        const char *end = scan_number(p, e, &integer);
        if (end == NULL || !integer) {
            return NULL;
        }
        const char *q = p;
        int negative = 0;
        if (*q == '-') {
            negative = 1;
            q++;
        }
        if (end - q > 18) {
            return NULL; /* near or past 64 bits: left to the decoders */
        }
        long long i = 0;
        for (; q < end; q++) {
            i = i * 10 + (*q - '0');
        }
        v->kind = V_INT;
        v->i = negative ? -i : i;
        return end;
    }
    }
}

/* The line's role values; 0 when the line is refused. */
static int
read_line(const char *p, const char *e, const Keys *keys, Value *values)
{
    int escaped, high;
    for (int r = 0; r < ROLES; r++) {
        values[r].kind = V_ABSENT;
    }
    p = skip_ws(p, e);
    if (p >= e || *p != '{') {
        return 0;
    }
    p = skip_ws(p + 1, e);
    if (p < e && *p == '}') {
        p++;
    }
    else {
        for (;;) {
            if (p >= e || *p != '"') {
                return 0;
            }
            const char *key = p + 1;
            escaped = high = 0;
            if ((p = scan_string(key, e, &escaped, &high)) == NULL || escaped) {
                return 0;
            }
            const Slot *slot = keys_find(keys, key, p - 1 - key);
            p = skip_ws(p, e);
            if (p >= e || *p != ':') {
                return 0;
            }
            p = skip_ws(p + 1, e);
            if (slot == NULL) {
                p = skip_value(p, e, 1);
            }
            else if (slot->role == REFUSED || values[slot->role].kind != V_ABSENT) {
                return 0;
            }
            else {
                p = read_value(p, e, &values[slot->role]);
            }
            if (p == NULL) {
                return 0;
            }
            p = skip_ws(p, e);
            if (p >= e) {
                return 0;
            }
            if (*p == '}') {
                p++;
                break;
            }
            if (*p != ',') {
                return 0;
            }
            p = skip_ws(p + 1, e);
        }
    }
    return skip_ws(p, e) == e;
}

/* The text of a string value (escapes decoded), or NULL with no error set when it is no valid UTF-8. */
static PyObject *
string_of(const Value *v)
{
    PyObject *s;
    if (!v->escaped) {
        if (!v->high) {
            s = PyUnicode_New(v->n, 127);
            if (s != NULL) {
                memcpy(PyUnicode_DATA(s), v->p, (size_t)v->n);
            }
            return s;
        }
        s = PyUnicode_DecodeUTF8(v->p, v->n, "strict");
    }
    else {
        char *buffer = PyMem_Malloc((size_t)v->n + 1);
        if (buffer == NULL) {
            return PyErr_NoMemory();
        }
        Py_ssize_t n = 0;
        for (const char *q = v->p, *end = v->p + v->n; q < end; q++) {
            char c = *q;
            if (c == '\\') {
                c = *++q;
                switch (c) {
                case 'b': c = '\b'; break;
                case 'f': c = '\f'; break;
                case 'n': c = '\n'; break;
                case 'r': c = '\r'; break;
                case 't': c = '\t'; break;
                default: break; /* '"', '\\', '/' stand for themselves */
                }
            }
            buffer[n++] = c;
        }
        s = PyUnicode_DecodeUTF8(buffer, n, "strict");
        PyMem_Free(buffer);
    }
    if (s == NULL && PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
        PyErr_Clear();
    }
    return s;
}

/* None for an absent or null value, else the scalar as orjson would decode it; NULL (no error set)
 * when it is none of those the scan maps. */
static PyObject *
scalar_of(const Value *v)
{
    switch (v->kind) {
    case V_ABSENT:
    case V_NULL:
        Py_RETURN_NONE;
    case V_TRUE:
        Py_RETURN_TRUE;
    case V_FALSE:
        Py_RETURN_FALSE;
    case V_INT:
        return PyLong_FromLongLong(v->i);
    default:
        return string_of(v);
    }
}

/* An id that needs no normalising (a string starting above '0' and ending above ' '), None, or NULL. */
static PyObject *
id_of(const Value *v)
{
    if (v->kind == V_ABSENT || v->kind == V_NULL) {
        Py_RETURN_NONE;
    }
    if (v->kind != V_STR || v->n == 0) {
        return NULL;
    }
    if (v->p[0] == '0' && !v->escaped && !v->high && (unsigned char)v->p[v->n - 1] > ' ') {
        /* normalise_id's answer for plain ASCII ids from '0': no 0x prefix (left to it), all zeros mean
         * none, any other is the id itself (one of 16 hex ids starts so) */
        if (v->n > 1 && (v->p[1] == 'x' || v->p[1] == 'X')) {
            return NULL;
        }
        Py_ssize_t zeros = 0;
        while (zeros < v->n && v->p[zeros] == '0') {
            zeros++;
        }
        if (zeros == v->n) {
            Py_RETURN_NONE;
        }
        return string_of(v);
    }
    PyObject *s = string_of(v);
    if (s == NULL) {
        return NULL;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    if (n == 0 || PyUnicode_READ_CHAR(s, 0) <= '0' || PyUnicode_READ_CHAR(s, n - 1) <= ' ') {
        Py_DECREF(s);
        return NULL;
    }
    return s;
}

typedef struct {
    PyObject *seconds;   /* the parser's whole-second cache */
    PyObject *fractions; /* and its fraction cache */
    char second[SECOND_CHARS];
    double second_value;
    int has_second;
    char tail[32];
    Py_ssize_t tail_len;
    double tail_value;
    int has_tail;
} Times;

static int
cached_float(PyObject *cache, const char *p, Py_ssize_t n, double *out)
{
    PyObject *key = PyUnicode_New(n, 127);
    if (key == NULL) {
        return -1;
    }
    memcpy(PyUnicode_DATA(key), p, (size_t)n);
    PyObject *found = PyDict_GetItemWithError(cache, key);
    Py_DECREF(key);
    if (found == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    if (!PyFloat_CheckExact(found)) {
        return 0;
    }
    *out = PyFloat_AS_DOUBLE(found);
    return 1;
}

/* 1 with *out set when the time string's second and fraction are cached, 0 when not, -1 on error. */
static int
time_of(Times *t, const Value *v, double *out)
{
    if (v->escaped || v->high || v->n < SECOND_CHARS) {
        return 0;
    }
    int found;
    if (!t->has_second || memcmp(t->second, v->p, SECOND_CHARS) != 0) {
        if ((found = cached_float(t->seconds, v->p, SECOND_CHARS, &t->second_value)) != 1) {
            return found;
        }
        memcpy(t->second, v->p, SECOND_CHARS);
        t->has_second = 1;
    }
    const char *tail = v->p + SECOND_CHARS;
    Py_ssize_t tail_len = v->n - SECOND_CHARS;
    if (!t->has_tail || t->tail_len != tail_len || memcmp(t->tail, tail, (size_t)tail_len) != 0) {
        if ((size_t)tail_len > sizeof(t->tail)) {
            return 0;
        }
        if ((found = cached_float(t->fractions, tail, tail_len, &t->tail_value)) != 1) {
            return found;
        }
        memcpy(t->tail, tail, (size_t)tail_len);
        t->tail_len = tail_len;
        t->has_tail = 1;
    }
    *out = t->second_value + t->tail_value;
    return 1;
}

/* The row of one line whose values were read, or NULL: with an error set on failure, without one when
 * the Python path must map the line. *last is the source's last time (a new reference on success). */
static PyObject *
map_line(Py_ssize_t index, const Value *values, Times *times, PyObject *levels, PyObject *empty,
         PyObject **last)
{
    PyObject *ts = NULL, *level_value = NULL, *event = NULL, *trace = NULL, *span = NULL,
             *parent = NULL, *op = NULL, *row = NULL;
    int inferred = 0;
    const Value *tv = &values[R_TS];
    if (tv->kind == V_ABSENT || tv->kind == V_NULL) {
        if (*last == Py_None) {
            return NULL; /* the Python path asks the clock */
        }
        ts = Py_NewRef(*last);
        inferred = 1;
    }
    else if (tv->kind == V_STR) {
        double seconds;
        int found = time_of(times, tv, &seconds);
        if (found != 1) {
            return NULL;
        }
        ts = PyFloat_FromDouble(seconds);
    }
    else if (tv->kind == V_INT && tv->i >= 100000000000LL && tv->i < 100000000000000LL) {
        ts = PyFloat_FromDouble((double)tv->i / 1000.0); /* epoch milliseconds, exact as Python's / */
    }
    else {
        return NULL;
    }
    if (ts == NULL) {
        return NULL;
    }
    const Value *ev = &values[R_EVENT];
    if (ev->kind == V_ABSENT || ev->kind == V_NULL) {
        event = Py_NewRef(empty);
    }
    else if (ev->kind == V_STR) {
        event = string_of(ev);
    }
    if (event == NULL) {
        goto done;
    }
    if ((level_value = scalar_of(&values[R_LEVEL])) == NULL) {
        goto done;
    }
    PyObject *level = PyDict_GetItemWithError(levels, level_value);
    if (level == NULL) {
        goto done;
    }
    if ((trace = id_of(&values[R_TRACE])) == NULL || (span = id_of(&values[R_SPAN])) == NULL) {
        goto done;
    }
    if (span == Py_None) {
        parent = Py_NewRef(Py_None);
    }
    else if ((parent = id_of(&values[R_PARENT])) == NULL) {
        goto done;
    }
    const Value *opv = &values[R_OP];
    op = opv->kind == V_STR ? string_of(opv) : Py_NewRef(Py_None);
    if (op == NULL) {
        goto done;
    }
    PyObject *number = PyLong_FromSsize_t(index);
    if (number == NULL) {
        goto done;
    }
    row = PyTuple_New(12);
    if (row == NULL) {
        Py_DECREF(number);
        goto done;
    }
    PyTuple_SET_ITEM(row, 0, number);
    PyTuple_SET_ITEM(row, 1, Py_NewRef(ts));
    PyTuple_SET_ITEM(row, 2, Py_NewRef(inferred ? Py_True : Py_False));
    PyTuple_SET_ITEM(row, 3, Py_NewRef(level));
    PyTuple_SET_ITEM(row, 4, Py_NewRef(event));
    PyTuple_SET_ITEM(row, 5, Py_NewRef(trace));
    PyTuple_SET_ITEM(row, 6, Py_NewRef(span));
    PyTuple_SET_ITEM(row, 7, Py_NewRef(parent));
    PyTuple_SET_ITEM(row, 8, Py_NewRef(op));
    PyTuple_SET_ITEM(row, 9, Py_NewRef(Py_None));
    PyTuple_SET_ITEM(row, 10, Py_NewRef(Py_False));
    PyTuple_SET_ITEM(row, 11, Py_NewRef(Py_None));
    Py_SETREF(*last, Py_NewRef(ts));
done:
    Py_XDECREF(ts);
    Py_XDECREF(level_value);
    Py_XDECREF(event);
    Py_XDECREF(trace);
    Py_XDECREF(span);
    Py_XDECREF(parent);
    Py_XDECREF(op);
    return row;
}

static int
keys_fill(Keys *keys, PyObject *chosen, PyObject *refused)
{
    memset(keys, 0, sizeof(*keys));
    if (!PyTuple_Check(chosen) || PyTuple_GET_SIZE(chosen) != ROLES || !PyTuple_Check(refused)) {
        PyErr_SetString(PyExc_TypeError, "keys: a tuple of 7 keys or None; refused: a tuple of keys");
        return -1;
    }
    for (int r = 0; r < ROLES; r++) {
        PyObject *key = PyTuple_GET_ITEM(chosen, r);
        if (key != Py_None && keys_add(keys, key, r) < 0) {
            return -1;
        }
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(refused); i++) {
        if (keys_add(keys, PyTuple_GET_ITEM(refused, i), REFUSED) < 0) {
            return -1;
        }
    }
    return 0;
}

static PyObject *
scan_rows(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 10) {
        PyErr_SetString(PyExc_TypeError, "scan_rows(lines, start, out, keys, refused, needs_ids, seconds, "
                                         "fractions, levels, last)");
        return NULL;
    }
    PyObject *lines = args[0], *out = args[2], *levels = args[8];
    Py_ssize_t start = PyLong_AsSsize_t(args[1]);
    if (start == -1 && PyErr_Occurred()) {
        return NULL;
    }
    int needs_ids = PyObject_IsTrue(args[5]);
    if (needs_ids < 0) {
        return NULL;
    }
    if (!PyList_CheckExact(out) || !PyDict_Check(args[6]) || !PyDict_Check(args[7]) || !PyDict_Check(levels)) {
        PyErr_SetString(PyExc_TypeError, "out must be a list; seconds, fractions and levels dicts");
        return NULL;
    }
    Keys *keys = PyMem_Malloc(sizeof(Keys));
    if (keys == NULL) {
        return PyErr_NoMemory();
    }
    PyObject *seq = NULL, *empty = NULL, *last = Py_NewRef(args[9]), *result = NULL;
    if (keys_fill(keys, args[3], args[4]) < 0) {
        goto done;
    }
    if ((seq = PySequence_Fast(lines, "lines must be a sequence")) == NULL) {
        goto done;
    }
    if ((empty = PyUnicode_New(0, 0)) == NULL) {
        goto done;
    }
    Times times = {.seconds = args[6], .fractions = args[7]};
    Value values[ROLES];
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq), i = start;
    for (; i < n; i++) {
        PyObject *line = PySequence_Fast_GET_ITEM(seq, i);
        if (!PyBytes_CheckExact(line)) {
            break;
        }
        const char *p = PyBytes_AS_STRING(line);
        if (!read_line(p, p + PyBytes_GET_SIZE(line), keys, values)) {
            break;
        }
        if (needs_ids && (values[R_TRACE].kind == V_ABSENT || values[R_SPAN].kind == V_ABSENT)) {
            break;
        }
        PyObject *row = map_line(i, values, &times, levels, empty, &last);
        if (row == NULL) {
            if (PyErr_Occurred()) {
                goto done;
            }
            break;
        }
        int failed = PyList_Append(out, row);
        Py_DECREF(row);
        if (failed) {
            goto done;
        }
    }
    result = Py_BuildValue("(nO)", i, last);
done:
    PyMem_Free(keys);
    Py_XDECREF(seq);
    Py_XDECREF(empty);
    Py_DECREF(last);
    return result;
}

/* ---- scan_attrs ------------------------------------------------------------------------------ */

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
    const char *p = *pp;
    int integer;
    if (p >= e) {
        return NULL;
    }
    if (*p == '"') {
        Value v = {.kind = V_STR};
        const char *end = scan_string(p + 1, e, &v.escaped, &v.high);
        if (end == NULL) {
            return NULL;
        }
        v.p = p + 1;
        v.n = end - 1 - v.p;
        *pp = end;
        return string_of(&v);
    }
    const char *end;
    if ((end = scan_word(p, e, "true", 4)) != NULL) {
        *pp = end;
        Py_RETURN_TRUE;
    }
    if ((end = scan_word(p, e, "false", 5)) != NULL) {
        *pp = end;
        Py_RETURN_FALSE;
    }
    if ((end = scan_word(p, e, "null", 4)) != NULL) {
        *pp = end;
        Py_RETURN_NONE;
    }
    if ((end = scan_number(p, e, &integer)) == NULL) {
        return NULL;
    }
    *pp = end;
    char digits[40];
    Py_ssize_t n = end - p;
    if (integer) {
        const char *q = p + (*p == '-');
        if (end - q > 18) {
            return NULL;
        }
        long long i = 0;
        for (; q < end; q++) {
            i = i * 10 + (*q - '0');
        }
        return PyLong_FromLongLong(*p == '-' ? -i : i);
    }
    if ((size_t)n >= sizeof(digits)) {
        return NULL;
    }
    memcpy(digits, p, (size_t)n);
    digits[n] = '\0';
    double d = PyOS_string_to_double(digits, NULL, NULL);
    if (d == -1.0 && PyErr_Occurred()) {
        PyErr_Clear();
        return NULL;
    }
    if (!isfinite(d)) {
        return NULL;
    }
    return PyFloat_FromDouble(d);
}

/* Read one object's members into dict (keys found in keys become names[role]); nested_of tells, for a
 * top-level read, where a nested key's inner keys are. 1 read, 0 left to the Python path, -1 error. */
static int
attr_object(const char **pp, const char *e, const Keys *keys, PyObject *const *names, Py_ssize_t nkeys,
            const AttrKeys *nested_of, PyObject *dict)
{
    const char *p = skip_ws(*pp, e);
    int escaped, high;
    if (p < e && *p == '}') {
        *pp = p + 1;
        return 1;
    }
    for (;;) {
        if (p >= e || *p != '"') {
            return 0;
        }
        const char *key = p + 1;
        escaped = high = 0;
        if ((p = scan_string(key, e, &escaped, &high)) == NULL || escaped) {
            return 0;
        }
        const Slot *slot = keys_find(keys, key, p - 1 - key);
        p = skip_ws(p, e);
        if (p >= e || *p != ':') {
            return 0;
        }
        p = skip_ws(p + 1, e);
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
        p = skip_ws(p, e);
        if (p >= e) {
            return 0;
        }
        if (*p == '}') {
            *pp = p + 1;
            return 1;
        }
        if (*p != ',') {
            return 0;
        }
        p = skip_ws(p + 1, e);
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

static PyMethodDef methods[] = {
    {"scan_attrs", (PyCFunction)(void (*)(void))scan_attrs, METH_FASTCALL,
     "scan_attrs(lines, start, out, keys, nested, refused) -> stop\n\n"
     "Append to out, for each line of lines[start:], the dict of its keys (and of nested keys' inner\n"
     "keys) until a line the Python path must read; return that line's index (len(lines) when none)."},
    {"scan_rows", (PyCFunction)(void (*)(void))scan_rows, METH_FASTCALL,
     "scan_rows(lines, start, out, keys, refused, needs_ids, seconds, fractions, levels, last)\n"
     "-> (stop, last)\n\n"
     "Append the rows of lines[start:] to out until a line the Python path must map; return that\n"
     "line's index (len(lines) when none) and the last time."},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
#if PY_VERSION_HEX >= 0x030C0000
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
    {0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_rowscan", "The projected path of LineParser.parse_rows, compiled.", 0,
    methods, slots, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__rowscan(void)
{
    return PyModuleDef_Init(&module);
}
