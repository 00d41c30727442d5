/* The projected path of LineParser.parse_rows, compiled: read the seven role values of a JSON line
 * straight from its bytes and map them to a row, for as many lines in a row as it can.
 *
 * It accepts a line only when the Python path (msgspec projection, then the mapping loop) would map it
 * from exactly these values with no call into Python code: a plain JSON object, no refused key, each
 * chosen key at most once with a scalar value, a time whose whole second and fraction are already in
 * the parser's caches (or epoch milliseconds), a level already in the key's table, ids that need no
 * normalising. Anything else (a \u escape in a value it reads, a float, a control character, a nested
 * role value, a cache miss, a line that is no object) stops the scan at that line, which the Python path
 * then maps: the rows are the same either way, only sooner here. The caller's tests hold both paths to
 * that.
 *
 * scan_side reads the few top-level keys sums and signals read (as PartialAttrs would) and works out the
 * sums and which records carry retry keys; per_trace, intern_all and Quantile serve the fold.
 */

#include "_rowscan_json.h"
#include "_rowscan_attrs.h"
#include "_rowscan_quantile.h"
#include "_rowscan_traces.h"

#define ROLES 7
#define SECOND_CHARS 19 /* "YYYY-MM-DDTHH:MM:SS" */

enum { R_TS, R_LEVEL, R_EVENT, R_TRACE, R_SPAN, R_PARENT, R_OP };

/* The line's role values; 0 when the line is refused. *triggered is set when it holds a trigger key. */
static int
read_line(const char *p, const char *e, const Keys *keys, Value *values, int *triggered)
{
    *triggered = 0;
    for (int r = 0; r < ROLES; r++) {
        values[r].kind = V_ABSENT;
    }
    p = skip_ws(p, e);
    if (p >= e || *p != '{') {
        return 0;
    }
    p = skip_ws(p + 1, e);
    int end = p < e && *p == '}' ? 1 : 0;
    if (end) {
        p++;
    }
    while (!end) {
        const Slot *slot;
        if ((p = member_key(p, e, keys, &slot)) == NULL) {
            return 0;
        }
        if (slot == NULL || slot->role == TRIGGER) {
            *triggered |= slot != NULL;
            p = skip_value(p, e, 1);
        }
        else if (slot->role == REFUSED || values[slot->role].kind != V_ABSENT) {
            return 0;
        }
        else {
            p = read_scalar(p, e, &values[slot->role], 0);
        }
        if (p == NULL || (end = item_end(&p, e, '}')) < 0) {
            return 0;
        }
    }
    return skip_ws(p, e) == e;
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
        return text_of(v);
    }
    PyObject *s = text_of(v);
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

/* The fraction of a second a time's tail holds, as formats.mapping.tail_fraction reads it (".312Z",
 * ",413", "Z" or nothing; a lower-case z too) and caches it (while the cache holds under 50 000): 1 with
 * *out set, 0 for a tail it refuses, -1 on error. */
static int
fraction_of(PyObject *fractions, const char *tail, Py_ssize_t n, double *out)
{
    int found = cached_float(fractions, tail, n, out);
    if (found != 0) {
        return found;
    }
    Py_ssize_t core = n > 0 && (tail[n - 1] == 'Z' || tail[n - 1] == 'z') ? n - 1 : n;
    char text[40];
    if (core == 0) {
        *out = 0.0;
    }
    else {
        if ((tail[0] != '.' && tail[0] != ',') || core < 2 || core + 1 > (Py_ssize_t)sizeof(text) - 1) {
            return 0;
        }
        text[0] = '0';
        text[1] = '.';
        for (Py_ssize_t i = 1; i < core; i++) {
            if (!is_digit(tail[i])) {
                return 0;
            }
            text[i + 1] = tail[i];
        }
        text[core + 1] = '\0';
        *out = PyOS_string_to_double(text, NULL, NULL);
        if (*out == -1.0 && PyErr_Occurred()) {
            return -1;
        }
    }
    if (PyDict_GET_SIZE(fractions) < 50000) {
        PyObject *key = PyUnicode_New(n, 127), *value = PyFloat_FromDouble(*out);
        if (key != NULL) {
            memcpy(PyUnicode_DATA(key), tail, (size_t)n);
        }
        int failed = key == NULL || value == NULL || PyDict_SetItem(fractions, key, value) < 0;
        Py_XDECREF(key);
        Py_XDECREF(value);
        if (failed) {
            return -1;
        }
    }
    return 1;
}

static long long
days_from_civil(long long y, unsigned m, unsigned d) /* days since 1970-01-01 (proleptic Gregorian) */
{
    y -= m <= 2;
    const long long era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

static unsigned
digits_at(const char *p, int n)
{
    unsigned value = 0;
    for (int i = 0; i < n; i++) {
        value = value * 10 + (unsigned)(p[i] - '0');
    }
    return value;
}

/* A second the cache lacks, in the shape nearly every writer uses ("YYYY-MM-DD[T ]HH:MM:SS" and a tail the
 * fraction cache holds): the time of this line as parse_time_str gives it (the minute, plus float() of
 * the seconds and the fraction, "," read as "."), and the whole second into the cache as remember_second
 * puts it (the minute plus the seconds; the cache cleared at 100 000). 1 done, 0 left to the Python
 * path, -1 error. Each new second of a log went through Python before (about 1 line in 75 of the
 * generated fleet logs, every line of a writer logging once a second). */
static int
new_second(Times *t, const Value *v, double *out)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    const char *p = v->p, *tail = v->p + SECOND_CHARS;
    Py_ssize_t tail_len = v->n - SECOND_CHARS;
    for (int i = 0; i < SECOND_CHARS; i++) {
        int fits = shape[i] == 'd' ? is_digit(p[i]) : shape[i] == 'T' ? p[i] == 'T' || p[i] == ' ' : p[i] == shape[i];
        if (!fits) {
            return 0;
        }
    }
    if ((size_t)tail_len > sizeof(t->tail) || (tail_len > 0 && tail[tail_len - 1] == 'z')) {
        return 0; /* parse_time_str strips only an upper-case Z before its fast path */
    }
    unsigned year = digits_at(p, 4), month = digits_at(p + 5, 2), day = digits_at(p + 8, 2);
    unsigned hour = digits_at(p + 11, 2), minute = digits_at(p + 14, 2), sec = digits_at(p + 17, 2);
    static const unsigned char month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (year < 1 || month < 1 || month > 12 || day < 1 || day > month_days[month - 1] + (unsigned)(month == 2 && leap)
        || hour > 23 || minute > 59 || sec > 60) {
        return 0; /* datetime refuses it (or a second past 60): the Python path judges */
    }
    double minute_epoch =
        (double)(days_from_civil(year, month, day) * 86400LL + (long long)hour * 3600 + (long long)minute * 60);
    char text[2 + sizeof(t->tail) + 1];
    Py_ssize_t n = 0;
    text[n++] = p[17];
    text[n++] = p[18];
    for (Py_ssize_t i = 0; i < tail_len; i++) {
        char c = tail[i];
        if (c == 'Z' && i == tail_len - 1) {
            break;
        }
        text[n++] = c == ',' && i == 0 ? '.' : c;
    }
    text[n] = '\0';
    char *end;
    double seconds = PyOS_string_to_double(text, &end, NULL);
    if (seconds == -1.0 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    if (end != text + n || !(seconds >= 0.0 && seconds < 61.0)) {
        return 0;
    }
    double fraction; /* last: it caches the tail, as remember_second does only for a time it read */
    int found = fraction_of(t->fractions, tail, tail_len, &fraction);
    if (found != 1) {
        return found; /* a tail remember_second would not keep the second for */
    }
    double second_value = minute_epoch + (double)sec;
    if (PyDict_GET_SIZE(t->seconds) >= 100000) {
        PyDict_Clear(t->seconds);
    }
    PyObject *key = PyUnicode_New(SECOND_CHARS, 127), *value = PyFloat_FromDouble(second_value);
    if (key != NULL) {
        memcpy(PyUnicode_DATA(key), p, SECOND_CHARS);
    }
    int failed = key == NULL || value == NULL || PyDict_SetItem(t->seconds, key, value) < 0;
    Py_XDECREF(key);
    Py_XDECREF(value);
    if (failed) {
        return -1;
    }
    memcpy(t->second, p, SECOND_CHARS);
    t->second_value = second_value;
    t->has_second = 1;
    memcpy(t->tail, tail, (size_t)tail_len);
    t->tail_len = tail_len;
    t->tail_value = fraction;
    t->has_tail = 1;
    *out = minute_epoch + seconds;
    return 1;
}

/* 1 with *out set when the time string's second and fraction are cached (or a new second is read here,
 * new_second), 0 when the Python path must read it, -1 on error. */
static int
time_of(Times *t, const Value *v, double *out)
{
    if (v->escaped || v->high || v->n < SECOND_CHARS) {
        return 0;
    }
    int found;
    if (!t->has_second || memcmp(t->second, v->p, SECOND_CHARS) != 0) {
        if ((found = cached_float(t->seconds, v->p, SECOND_CHARS, &t->second_value)) != 1) {
            return found == 0 ? new_second(t, v, out) : found;
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
        if ((found = fraction_of(t->fractions, tail, tail_len, &t->tail_value)) != 1) {
            return found;
        }
        memcpy(t->tail, tail, (size_t)tail_len);
        t->tail_len = tail_len;
        t->has_tail = 1;
    }
    *out = t->second_value + t->tail_value;
    return 1;
}

#define ROW_WIDTH 12

/* Append one row to out: a list of row tuples, or a tuple of ROW_WIDTH column lists (fields borrowed). */
static int
emit(PyObject *out, PyObject *const *fields)
{
    if (PyTuple_CheckExact(out)) {
        for (int f = 0; f < ROW_WIDTH; f++) {
            if (PyList_Append(PyTuple_GET_ITEM(out, f), fields[f]) < 0) {
                return -1;
            }
        }
        return 0;
    }
    PyObject *row = PyTuple_New(ROW_WIDTH);
    if (row == NULL) {
        return -1;
    }
    for (int f = 0; f < ROW_WIDTH; f++) {
        PyTuple_SET_ITEM(row, f, Py_NewRef(fields[f]));
    }
    int failed = PyList_Append(out, row);
    Py_DECREF(row);
    return failed;
}

/* Map one line whose values were read into out (see emit): 1 done, 0 when the Python path must map
 * the line, -1 on error. *last is the source's last time (a new reference once done). */
static int
map_line(PyObject *out, Py_ssize_t index, const Value *values, Times *times, PyObject *levels,
         PyObject *empty, PyObject **last)
{
    PyObject *ts = NULL, *level_value = NULL, *event = NULL, *trace = NULL, *span = NULL,
             *parent = NULL, *op = NULL;
    int done = 0, inferred = 0;
    const Value *tv = &values[R_TS];
    if (tv->kind == V_ABSENT || tv->kind == V_NULL) {
        if (*last == Py_None) {
            return 0; /* the Python path asks the clock */
        }
        ts = Py_NewRef(*last);
        inferred = 1;
    }
    else if (tv->kind == V_STR) {
        double seconds;
        int found = time_of(times, tv, &seconds);
        if (found != 1) {
            return found; /* -1 with an error set, 0 for the Python path */
        }
        ts = PyFloat_FromDouble(seconds);
    }
    else if (tv->kind == V_INT && tv->i >= 100000000000LL && tv->i < 100000000000000LL) {
        ts = PyFloat_FromDouble((double)tv->i / 1000.0); /* epoch milliseconds, exact as Python's / */
    }
    else {
        return 0;
    }
    if (ts == NULL) {
        return -1;
    }
    const Value *ev = &values[R_EVENT];
    if (ev->kind == V_ABSENT || ev->kind == V_NULL) {
        event = Py_NewRef(empty);
    }
    else if (ev->kind == V_STR) {
        event = text_of(ev);
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
    op = opv->kind == V_STR ? text_of(opv) : Py_NewRef(Py_None);
    if (op == NULL) {
        goto done;
    }
    PyObject *number = PyLong_FromSsize_t(index);
    if (number == NULL) {
        goto done;
    }
    PyObject *fields[ROW_WIDTH] = {
        number, ts, inferred ? Py_True : Py_False, level, event, trace, span, parent, op,
        Py_None, Py_False, Py_None,
    };
    int failed = emit(out, fields);
    Py_DECREF(number);
    if (failed) {
        goto done;
    }
    Py_SETREF(*last, Py_NewRef(ts));
    done = 1;
done:
    Py_XDECREF(ts);
    Py_XDECREF(level_value);
    Py_XDECREF(event);
    Py_XDECREF(trace);
    Py_XDECREF(span);
    Py_XDECREF(parent);
    Py_XDECREF(op);
    return done == 1 ? 1 : PyErr_Occurred() ? -1 : 0;
}

static int
keys_fill(Keys *keys, PyObject *chosen, PyObject *refused, PyObject *triggers)
{
    memset(keys, 0, sizeof(*keys));
    if (!PyTuple_Check(chosen) || PyTuple_GET_SIZE(chosen) != ROLES || !PyTuple_Check(refused)
        || !PyTuple_Check(triggers)) {
        PyErr_SetString(PyExc_TypeError,
                        "keys: a tuple of 7 keys or None; refused and triggers: tuples of keys");
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
    /* after the others: a trigger that is a chosen or refused key stays one (the first role stands) */
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(triggers); i++) {
        if (keys_add(keys, PyTuple_GET_ITEM(triggers, i), TRIGGER) < 0) {
            return -1;
        }
    }
    return 0;
}

static PyObject *
scan_rows(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 10 && nargs != 12) {
        PyErr_SetString(PyExc_TypeError, "scan_rows(lines, start, out, keys, refused, needs_ids, seconds, "
                                         "fractions, levels, last[, triggers, marked])");
        return NULL;
    }
    PyObject *lines = args[0], *out = args[2], *levels = args[8], *no_triggers = NULL;
    PyObject *triggers = nargs == 12 ? args[10] : NULL, *marked = nargs == 12 ? args[11] : Py_None;
    if (marked != Py_None && !PyList_CheckExact(marked)) {
        PyErr_SetString(PyExc_TypeError, "marked must be a list or None");
        return NULL;
    }
    Py_ssize_t start = PyLong_AsSsize_t(args[1]);
    if (start == -1 && PyErr_Occurred()) {
        return NULL;
    }
    int needs_ids = PyObject_IsTrue(args[5]);
    if (needs_ids < 0) {
        return NULL;
    }
    int columns = PyTuple_CheckExact(out) && PyTuple_GET_SIZE(out) == ROW_WIDTH;
    for (Py_ssize_t f = 0; columns && f < ROW_WIDTH; f++) {
        columns = PyList_CheckExact(PyTuple_GET_ITEM(out, f));
    }
    if (!(columns || PyList_CheckExact(out)) || !PyDict_Check(args[6]) || !PyDict_Check(args[7])
        || !PyDict_Check(levels)) {
        PyErr_SetString(PyExc_TypeError, "out must be a list or a tuple of 12 lists; seconds, fractions "
                                         "and levels dicts");
        return NULL;
    }
    Keys *keys = PyMem_Malloc(sizeof(Keys));
    if (keys == NULL) {
        return PyErr_NoMemory();
    }
    PyObject *seq = NULL, *empty = NULL, *last = Py_NewRef(args[9]), *result = NULL;
    if (triggers == NULL && (triggers = no_triggers = PyTuple_New(0)) == NULL) {
        goto done;
    }
    if (keys_fill(keys, args[3], args[4], triggers) < 0) {
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
        int triggered;
        if (!read_line(p, p + PyBytes_GET_SIZE(line), keys, values, &triggered)) {
            break;
        }
        if (needs_ids && (values[R_TRACE].kind == V_ABSENT || values[R_SPAN].kind == V_ABSENT)) {
            break;
        }
        int mapped = map_line(out, i, values, &times, levels, empty, &last);
        if (mapped < 0) {
            goto done;
        }
        if (mapped == 0) {
            break;
        }
        if (triggered && marked != Py_None) {
            PyObject *number = PyLong_FromSsize_t(i);
            int failed = number == NULL || PyList_Append(marked, number) < 0;
            Py_XDECREF(number);
            if (failed) {
                goto done;
            }
        }
    }
    result = Py_BuildValue("(nO)", i, last);
done:
    PyMem_Free(keys);
    Py_XDECREF(no_triggers);
    Py_XDECREF(seq);
    Py_XDECREF(empty);
    Py_DECREF(last);
    return result;
}

/* Where each line starts (lines of a read split at its newlines, the first at position) and how long
 * it is, as the bytes of arrays in the store's narrowest typecodes: offsets "I" (unsigned int) while
 * they fit, else "q"; lengths "H" (unsigned short) while they fit, else "I". */
static PyObject *
line_spans(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "line_spans(lines, position)");
        return NULL;
    }
    long long position = PyLong_AsLongLong(args[1]);
    if (position == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (position < 0) {
        PyErr_SetString(PyExc_ValueError, "position must be >= 0");
        return NULL;
    }
    PyObject *seq = PySequence_Fast(args[0], "lines must be a sequence"), *result = NULL, *offsets = NULL,
             *lengths = NULL;
    if (seq == NULL) {
        return NULL;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq), longest = 0;
    long long end = position, last = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *line = PySequence_Fast_GET_ITEM(seq, i);
        if (!PyBytes_Check(line)) {
            PyErr_SetString(PyExc_TypeError, "lines must be bytes");
            goto done;
        }
        Py_ssize_t len = PyBytes_GET_SIZE(line);
        longest = len > longest ? len : longest;
        last = end;
        end += len + 1;
    }
    if (longest > (Py_ssize_t)UINT_MAX) {
        PyErr_SetString(PyExc_OverflowError, "a line longer than an unsigned int");
        goto done;
    }
    int wide_offsets = last > (long long)UINT_MAX, wide_lengths = longest > (Py_ssize_t)USHRT_MAX;
    offsets = PyBytes_FromStringAndSize(NULL, n * (Py_ssize_t)(wide_offsets ? sizeof(long long) : sizeof(unsigned)));
    lengths = PyBytes_FromStringAndSize(NULL, n * (Py_ssize_t)(wide_lengths ? sizeof(unsigned) : sizeof(unsigned short)));
    if (offsets == NULL || lengths == NULL) {
        goto done;
    }
    char *o = PyBytes_AS_STRING(offsets), *l = PyBytes_AS_STRING(lengths);
    long long at = position;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t len = PyBytes_GET_SIZE(PySequence_Fast_GET_ITEM(seq, i));
        if (wide_offsets) {
            ((long long *)o)[i] = at;
        }
        else {
            ((unsigned *)o)[i] = (unsigned)at;
        }
        if (wide_lengths) {
            ((unsigned *)l)[i] = (unsigned)len;
        }
        else {
            ((unsigned short *)l)[i] = (unsigned short)len;
        }
        at += len + 1;
    }
    result = Py_BuildValue("(sOsO)", wide_offsets ? "q" : "I", offsets, wide_lengths ? "I" : "H", lengths);
done:
    Py_DECREF(seq);
    Py_XDECREF(offsets);
    Py_XDECREF(lengths);
    return result;
}

static PyMethodDef methods[] = {
    {"line_spans", (PyCFunction)(void (*)(void))line_spans, METH_FASTCALL,
     "line_spans(lines, position) -> (offset typecode, offset bytes, length typecode, length bytes)\n\n"
     "Each line's offset (the first at position, each after the one before and its newline) and\n"
     "length, as array bytes in the narrowest of \"I\"/\"q\" and \"H\"/\"I\" that holds them."},
    {"scan_side", (PyCFunction)(void (*)(void))scan_side, METH_FASTCALL,
     "scan_side(lines, start, keys, nested, refused, spec, trace_ids, sums, keyed) -> stop\n\n"
     "For each line of lines[start:], read its dict as scan_attrs does; put sums[i] = its summed values\n"
     "when trace_ids[i] is not None and it holds a summed key, keyed[i] = the dict when it holds a retry\n"
     "counter or a 429/503 status; stop at a line the Python path must read and return its index."},
    {"per_trace", (PyCFunction)(void (*)(void))per_trace, METH_FASTCALL,
     "per_trace(trace_ids, ts, levels, ts_sorted) -> (counts, last_k, first_k, lo, hi, top)\n\n"
     "Each trace id's records, last and first record index, earliest and latest time and most severe\n"
     "level in the batch, as dicts in order of first sight (no None key)."},
    {"intern_all", (PyCFunction)(void (*)(void))intern_all, METH_FASTCALL,
     "intern_all(interner, keys) -> list[int]\n\n"
     "Each key's int in an Interner, new keys added as its __missing__ adds them."},
    {"scan_rows", (PyCFunction)(void (*)(void))scan_rows, METH_FASTCALL,
     "scan_rows(lines, start, out, keys, refused, needs_ids, seconds, fractions, levels, last\n"
     "          [, triggers, marked]) -> (stop, last)\n\n"
     "Append the rows of lines[start:] to out (a list of row tuples, or a tuple of 12 column lists)\n"
     "until a line the Python path must map; return that line's index (len(lines) when none) and\n"
     "the last time. With triggers (keys it otherwise skips), the index of each line it maps that\n"
     "holds one is appended to marked (a list, or None for no marks)."},
    {NULL, NULL, 0, NULL},
};

static int
module_exec(PyObject *module)
{
    PyObject *type = PyType_FromModuleAndSpec(module, &Quantile_spec, NULL);
    if (type == NULL) {
        return -1;
    }
    int failed = PyModule_AddObjectRef(module, "Quantile", type);
    Py_DECREF(type);
    return failed;
}

static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, module_exec},
#if PY_VERSION_HEX >= 0x030C0000
    /* text_of's table holds str objects for the whole process: one interpreter only */
    {Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED},
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
