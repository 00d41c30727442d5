/* The JSON scanning the compiled scanner shares: key tables, skipping and reading values. */
#ifndef AGENT_TUI_ROWSCAN_JSON_H
#define AGENT_TUI_ROWSCAN_JSON_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define TABLE 512 /* power of two; keys are at most a few hundred */
#define MAX_DEPTH 64

enum { V_ABSENT, V_NULL, V_TRUE, V_FALSE, V_INT, V_FLOAT, V_STR };
#define REFUSED (-1)
#define TRIGGER (-2) /* a key the scan skips but notes (scan_rows' triggers) */

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
    int escaped;   /* ESCAPED and ESCAPED_U: the escapes the string holds */
    int high;      /* the string holds a byte >= 0x80 */
    long long i;
    double d;
} Value;

/* The first 8 and the last 8 bytes of a key (fewer when shorter), mixed with its length: keys differ
 * there, and the table compares whole keys on a hit. */
static inline uint32_t
hash_bytes(const char *p, Py_ssize_t n)
{
    uint64_t head = 0, tail = 0;
    size_t k = n < 8 ? (size_t)n : 8;
    memcpy(&head, p, k);
    memcpy(&tail, p + n - (Py_ssize_t)k, k);
    uint64_t h = (head * 0x9E3779B97F4A7C15ULL) ^ (tail * 0xC2B2AE3D27D4EB4FULL) ^ ((uint64_t)n << 32);
    return (uint32_t)(h ^ (h >> 29) ^ (h >> 47));
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

/* Bit 7 of each of 8 bytes that is a quote, a backslash, a control character or not ASCII (SWAR). Bits
 * above the first such byte may be set spuriously (borrows), never below: the lowest bit is exact. */
static inline uint64_t
special8(const char *p)
{
    const uint64_t ones = 0x0101010101010101ULL, top = 0x8080808080808080ULL;
    uint64_t w, quote, slash;
    memcpy(&w, p, 8);
    quote = w ^ (ones * '"');
    slash = w ^ (ones * '\\');
    return (((quote - ones) & ~quote) | ((slash - ones) & ~slash) | (w - ones * 0x20) | w) & top;
}

#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define FIRST_SPECIAL(mask) ((Py_ssize_t)(__builtin_ctzll(mask) >> 3))
#else
#define FIRST_SPECIAL(mask) ((Py_ssize_t)0) /* no byte order trick: look from the word's start */
#endif

#define ESCAPED 1   /* a string holds a one-letter escape (\n, \", ...) */
#define ESCAPED_U 2 /* a string holds a \uXXXX escape: skipped, never read, by the scan */

/* Whether p starts 4 hex digits naming no surrogate: any decoder reads that escape alike. */
static inline int
unicode_escape(const char *p, const char *e)
{
    unsigned code = 0;
    if (e - p < 4) {
        return 0;
    }
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        unsigned digit = c >= '0' && c <= '9' ? (unsigned)(c - '0')
                         : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                         : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 16u;
        if (digit > 15) {
            return 0;
        }
        code = code << 4 | digit;
    }
    return code < 0xD800 || code > 0xDFFF;
}

/* p is just past the opening quote; returns just past the closing one, or NULL (refused). *escaped
 * gains ESCAPED and ESCAPED_U for the escapes met. */
static const char *
scan_string(const char *p, const char *e, int *escaped, int *high)
{
    for (;;) {
        while (e - p >= 8) {
            uint64_t mask = special8(p);
            if (mask) {
                p += FIRST_SPECIAL(mask); /* plain ASCII up to there */
                break;
            }
            p += 8; /* plain ASCII text, eight bytes at a time */
        }
        if (p >= e) {
            return NULL;
        }
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
                *escaped |= ESCAPED;
                p += 2;
                continue;
            case 'u':
                if (!unicode_escape(p + 2, e)) {
                    return NULL; /* a surrogate (msgspec's and orjson's to judge) or invalid */
                }
                *escaped |= ESCAPED_U;
                p += 6;
                continue;
            default:
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

/* After an object member's or array element's value at *pp: 1 with *pp just past the closing ``close``,
 * 0 with *pp at the next item, -1 when what follows is neither. */
static inline int
item_end(const char **pp, const char *e, char close)
{
    const char *p = skip_ws(*pp, e);
    if (p < e && *p == close) {
        *pp = p + 1;
        return 1;
    }
    if (p >= e || *p != ',') {
        return -1;
    }
    *pp = skip_ws(p + 1, e);
    return 0;
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
        int end = item_end(&p, e, close);
        if (end != 0) {
            return end == 1 ? p : NULL;
        }
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

/* An object member's key looked up in keys: p at its opening quote. Returns just past the ':' (and the
 * whitespace after it) with *slot set (NULL for a key keys lacks), or NULL when the key is escaped or
 * the member malformed. */
static inline const char *
member_key(const char *p, const char *e, const Keys *keys, const Slot **slot)
{
    int escaped = 0, high = 0;
    if (p >= e || *p != '"') {
        return NULL;
    }
    const char *key = p + 1;
    if ((p = scan_string(key, e, &escaped, &high)) == NULL || escaped) {
        return NULL;
    }
    *slot = keys_find(keys, key, p - 1 - key);
    p = skip_ws(p, e);
    if (p >= e || *p != ':') {
        return NULL;
    }
    return skip_ws(p + 1, e);
}

/* A scalar as msgspec's projection decodes it (and orjson would): a string, true, false, null, an integer
 * of at most 18 digits, with ``floats`` a finite float. Returns just past it, or NULL when the scan
 * leaves it to the decoders (no error set). */
static const char *
read_scalar(const char *p, const char *e, Value *v, int floats)
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
        if (end == NULL || (v->escaped & ESCAPED_U)) {
            return NULL; /* \u escapes are decoded by the Python path */
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
    default:
        break;
    }
    const char *end = scan_number(p, e, &integer);
    if (end == NULL) {
        return NULL;
    }
    if (!integer) {
        char digits[40];
        Py_ssize_t n = end - p;
        if (!floats || (size_t)n >= sizeof(digits)) {
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
        v->kind = V_FLOAT;
        v->d = d;
        return end;
    }
    const char *q = p + (*p == '-');
    if (end - q > 18) {
        return NULL; /* near or past 64 bits: left to the decoders */
    }
    long long i = 0;
    for (; q < end; q++) {
        i = i * 10 + (*q - '0');
    }
    v->kind = V_INT;
    v->i = *p == '-' ? -i : i;
    return end;
}

#define TEXTS 4096
#define TEXT_MAX 64
static PyObject *texts[TEXTS]; /* process-wide (the module declares one interpreter only) */

/* string_of, giving the same object again for a plain ASCII value met recently (a direct-mapped table
 * of the last text made for each hash of the bytes): event names and ops repeat on most lines and a
 * trace's ids on each of its lines, so most role values cost a hash and a memcmp instead of a new str,
 * and keep their cached hash for the dicts that intern them next. */
static PyObject *
text_of(const Value *v)
{
    if (v->escaped || v->high || v->n == 0 || v->n > TEXT_MAX) {
        return string_of(v);
    }
    PyObject **slot = &texts[hash_bytes(v->p, v->n) & (TEXTS - 1)];
    PyObject *s = *slot;
    if (s != NULL && PyUnicode_GET_LENGTH(s) == v->n && memcmp(PyUnicode_DATA(s), v->p, (size_t)v->n) == 0) {
        return Py_NewRef(s);
    }
    s = string_of(v);
    if (s != NULL) {
        Py_XSETREF(*slot, Py_NewRef(s));
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
    case V_FLOAT:
        return PyFloat_FromDouble(v->d);
    default:
        return text_of(v);
    }
}

#endif
