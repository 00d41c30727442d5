/* The JSON scanning the compiled scanner shares: key tables, skipping and reading values. */
#ifndef AGENT_TUI_ROWSCAN_JSON_H
#define AGENT_TUI_ROWSCAN_JSON_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define TABLE 512 /* power of two; keys are at most a few hundred */
#define MAX_DEPTH 64

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

/* After a member's value at *pp: 1 with *pp just past the object's '}', 0 with *pp at the next key,
 * -1 when what follows is neither. */
static inline int
member_end(const char **pp, const char *e)
{
    const char *p = skip_ws(*pp, e);
    if (p < e && *p == '}') {
        *pp = p + 1;
        return 1;
    }
    if (p >= e || *p != ',') {
        return -1;
    }
    *pp = skip_ws(p + 1, e);
    return 0;
}

#endif
