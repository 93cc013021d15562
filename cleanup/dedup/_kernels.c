/* Compiled inner loops of dedup's hashing (docs/architecture.md, "Dedup kernels").
 *
 * Each function computes exactly what its numpy counterpart in cleanup/dedup computes (the
 * tests compare them on random and real text); they exist because numpy needs one pass over
 * memory per operation, and these loops fuse them: MinHash's multiply, add and minimum over
 * 128 permutations; the tokenizer's deletions, byte classes, token bounds and hash in one pass
 * over the text. They take buffers (numpy arrays), check every length and offset before
 * touching memory, and release the GIL while they run. The Python wrappers in
 * cleanup/dedup/kernels.py make the arrays.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

/* Built for both plain x86-64 and AVX2, chosen when loaded (GCC function multiversioning):
 * the MinHash loop is ~4x faster with 8 lanes of 32-bit multiplies. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define CLONES __attribute__((target_clones("avx2", "default")))
#else
#define CLONES
#endif

#define FNV_PRIME UINT64_C(0x100000001B3)

static inline uint64_t fmix64(uint64_t h) {
    h ^= h >> 33;
    h *= UINT64_C(0xFF51AFD7ED558CCD);
    h ^= h >> 33;
    h *= UINT64_C(0xC4CEB9FE1A85EC53);
    h ^= h >> 33;
    return h;
}

/* A buffer of `itemsize`-byte items, C-contiguous; writable when asked. */
static int get_buffer(PyObject *obj, Py_buffer *view, Py_ssize_t itemsize, int writable,
                      const char *name) {
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, view, flags) != 0) {
        return -1;
    }
    if (view->itemsize != itemsize || view->len % itemsize != 0) {
        PyErr_Format(PyExc_TypeError, "%s: expected items of %zd bytes, got %zd", name,
                     itemsize, view->itemsize);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

static void release_buffers(Py_buffer *views, int count) {
    while (count > 0) {
        PyBuffer_Release(&views[--count]);
    }
}

/* The `count` buffers of `objs`, the last one writable (each wrapper's `out`); on failure none
 * is held. */
static int get_buffers(PyObject **objs, Py_buffer *views, const Py_ssize_t *sizes,
                       const char **names, int count) {
    for (int i = 0; i < count; i++) {
        if (get_buffer(objs[i], &views[i], sizes[i], i == count - 1, names[i]) != 0) {
            release_buffers(views, i);
            return -1;
        }
    }
    return 0;
}

/* Offsets into an array of `size` items: non-decreasing, from 0 or more, at most `size`. */
static int check_offsets(const int64_t *offsets, Py_ssize_t count, Py_ssize_t size) {
    for (Py_ssize_t i = 0; i < count; i++) {
        if (offsets[i] < 0 || offsets[i] > size || (i > 0 && offsets[i] < offsets[i - 1])) {
            PyErr_SetString(PyExc_ValueError, "offsets out of order or out of range");
            return -1;
        }
    }
    return 0;
}

CLONES static void minhash_rows(const uint32_t *hashes, const int64_t *offsets, Py_ssize_t n,
                                const uint32_t *a, const uint32_t *b, Py_ssize_t perms,
                                uint32_t *out) {
    for (Py_ssize_t d = 0; d < n; d++) {
        uint32_t *row = out + d * perms;
        for (Py_ssize_t p = 0; p < perms; p++) {
            row[p] = UINT32_MAX;
        }
        for (int64_t i = offsets[d]; i < offsets[d + 1]; i++) {
            const uint32_t h = hashes[i];
            for (Py_ssize_t p = 0; p < perms; p++) {
                const uint32_t v = a[p] * h + b[p];
                row[p] = v < row[p] ? v : row[p];
            }
        }
    }
}

PyDoc_STRVAR(minhash_doc,
             "minhash(hashes, offsets, a, b, out)\n\n"
             "out[d, p] = min(a[p] * h + b[p] mod 2^32) over the uint32 `hashes` of text d\n"
             "(hashes[offsets[d]:offsets[d + 1]]), UINT32_MAX for a text without any;\n"
             "`out` is uint32, len(offsets) - 1 rows of len(a).");

static PyObject *minhash(PyObject *self, PyObject *args) {
    PyObject *objs[5];
    Py_buffer v[5];
    static const Py_ssize_t sizes[5] = {4, 8, 4, 4, 4};
    static const char *names[5] = {"hashes", "offsets", "a", "b", "out"};
    PyObject *result = NULL;
    if (!PyArg_ParseTuple(args, "OOOOO:minhash", &objs[0], &objs[1], &objs[2], &objs[3],
                          &objs[4])) {
        return NULL;
    }
    if (get_buffers(objs, v, sizes, names, 5) != 0) {
        return NULL;
    }
    Py_ssize_t size = v[0].len / 4, count = v[1].len / 8, perms = v[2].len / 4;
    Py_ssize_t n = count > 0 ? count - 1 : 0;
    if (count < 1 || v[3].len / 4 != perms || v[4].len / 4 != n * perms) {
        PyErr_SetString(PyExc_ValueError, "minhash: sizes of offsets, a, b and out disagree");
        goto done;
    }
    if (check_offsets(v[1].buf, count, size) != 0) {
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    minhash_rows(v[0].buf, v[1].buf, n, v[2].buf, v[3].buf, perms, v[4].buf);
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    release_buffers(v, 5);
    return result;
}

static void shingles_into(const uint64_t *tokens, const int64_t *offsets, Py_ssize_t n, int k,
                          const uint64_t *mult, uint32_t *out) {
    Py_ssize_t o = 0;
    for (Py_ssize_t d = 0; d < n; d++) {
        const int64_t first = offsets[d], count = offsets[d + 1] - offsets[d];
        /* k tokens a shingle; a text shorter than k (but not empty) makes one of all of them */
        const int64_t shingles = count == 0 ? 0 : (count >= k ? count - k + 1 : 1);
        const int width = count >= k ? k : (int)count;
        for (int64_t i = 0; i < shingles; i++) {
            uint64_t acc = 0;
            for (int j = 0; j < width; j++) {
                acc += tokens[first + i + j] * mult[j];
            }
            out[o++] = (uint32_t)fmix64(acc);
        }
    }
}

PyDoc_STRVAR(shingle_hashes_doc,
             "shingle_hashes(tokens, offsets, k, mult, out)\n\n"
             "The k-token shingles of each text (tokens[offsets[d]:offsets[d + 1]]): the low 32\n"
             "bits of fmix64(sum of token j * mult[j]), mod 2^64; a text of fewer than k tokens\n"
             "(but one or more) makes one shingle of all of them. uint64 tokens and mult (k or\n"
             "more), int64 offsets, uint32 out holding exactly every shingle.");

static PyObject *shingle_hashes(PyObject *self, PyObject *args) {
    PyObject *objs[4];
    Py_buffer v[4];
    static const Py_ssize_t sizes[4] = {8, 8, 8, 4};
    static const char *names[4] = {"tokens", "offsets", "mult", "out"};
    int k = 0;
    PyObject *result = NULL;
    if (!PyArg_ParseTuple(args, "OOiOO:shingle_hashes", &objs[0], &objs[1], &k, &objs[2],
                          &objs[3])) {
        return NULL;
    }
    if (get_buffers(objs, v, sizes, names, 4) != 0) {
        return NULL;
    }
    const Py_ssize_t count = v[1].len / 8, n = count > 0 ? count - 1 : 0;
    const int64_t *offsets = v[1].buf;
    if (count < 1 || k < 1 || v[2].len / 8 < k) {
        PyErr_SetString(PyExc_ValueError, "shingle_hashes: no offsets, or k not in 1..len(mult)");
        goto done;
    }
    if (check_offsets(offsets, count, v[0].len / 8) != 0) {
        goto done;
    }
    Py_ssize_t total = 0;
    for (Py_ssize_t d = 0; d < n; d++) {
        const int64_t c = offsets[d + 1] - offsets[d];
        total += c == 0 ? 0 : (c >= k ? c - k + 1 : 1);
    }
    if (v[3].len / 4 != total) {
        PyErr_SetString(PyExc_ValueError, "shingle_hashes: out does not hold every shingle");
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    shingles_into(v[0].buf, offsets, n, k, v[2].buf, v[3].buf);
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    release_buffers(v, 4);
    return result;
}

#define GOLDEN UINT64_C(0x9E3779B97F4A7C15)

static void fingerprints_into(const uint64_t *tokens, const int64_t *offsets, Py_ssize_t n,
                              uint64_t *out) {
    for (Py_ssize_t d = 0; d < n; d++) {
        const int64_t first = offsets[d], count = offsets[d + 1] - offsets[d];
        uint64_t sum = 0;
        for (int64_t j = 0; j < count; j++) {
            sum += fmix64(tokens[first + j] + (uint64_t)j * GOLDEN);
        }
        out[d] = count == 0 ? 0 : (fmix64(sum + (uint64_t)count) | 1);
    }
}

PyDoc_STRVAR(fingerprints_doc,
             "fingerprints(tokens, offsets, out)\n\n"
             "out[d] = fmix64(sum of fmix64(token j + j * golden) + count) | 1 over the tokens\n"
             "of text d, mod 2^64; 0 for a text without any. uint64 tokens and out, int64\n"
             "offsets.");

static PyObject *fingerprints(PyObject *self, PyObject *args) {
    PyObject *objs[3];
    Py_buffer v[3];
    static const Py_ssize_t sizes[3] = {8, 8, 8};
    static const char *names[3] = {"tokens", "offsets", "out"};
    PyObject *result = NULL;
    if (!PyArg_ParseTuple(args, "OOO:fingerprints", &objs[0], &objs[1], &objs[2])) {
        return NULL;
    }
    if (get_buffers(objs, v, sizes, names, 3) != 0) {
        return NULL;
    }
    const Py_ssize_t count = v[1].len / 8, n = count > 0 ? count - 1 : 0;
    if (count < 1 || v[2].len / 8 != n) {
        PyErr_SetString(PyExc_ValueError, "fingerprints: out is not one per text");
        goto done;
    }
    if (check_offsets(v[1].buf, count, v[0].len / 8) != 0) {
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    fingerprints_into(v[0].buf, v[1].buf, n, v[2].buf);
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    release_buffers(v, 3);
    return result;
}

/* The tokenizer of shingles.token_hashes over lowercased UTF-8 (texts joined by NUL), one pass:
 * what _folded, _token_spans (one character a token in scripts without spaces) and the token
 * hash do in numpy, for text a str encoded. Bytes of other input are read safely, tokenized
 * somehow. Vanishing characters are skipped as if deleted; a token is a run of word bytes. */
static inline int vanishes(uint8_t c, uint8_t c1, uint8_t c2, int *width) {
    if (c == 0xC2 && (c1 == 0xAD || c1 == 0xB4)) { /* soft hyphen, acute */
        *width = 2;
        return 1;
    }
    *width = 3;
    return (c == 0xE2 && c1 == 0x80 &&
            (c2 == 0x98 || c2 == 0x99 || c2 == 0x9B || c2 == 0xB2 || c2 == 0x8C || c2 == 0x8D)) ||
           (c == 0xE2 && c1 == 0x81 && c2 == 0xA0) || (c == 0xEF && c1 == 0xBB && c2 == 0xBF);
}

static inline int separates(uint8_t c, uint8_t c1, uint8_t c2, int *width) {
    *width = 2;
    if (c == 0xC2) {
        return c1 >= 0xA0 && c1 <= 0xBF;
    }
    *width = 3;
    return (c == 0xE2 && (c1 == 0x80 || c1 == 0x81)) || (c == 0xE2 && c1 == 0x88 && c2 == 0x92) ||
           (c == 0xE3 && c1 == 0x80) || (c == 0xEF && c1 == 0xBB && c2 == 0xBF);
}

static inline int spaceless(uint8_t c, uint8_t c1) { /* Thai, kana, CJK ideographs */
    return (c == 0xE0 && (c1 == 0xB8 || c1 == 0xB9)) || (c == 0xE3 && c1 >= 0x81) ||
           (c >= 0xE4 && c <= 0xE9) || (c == 0xEF && c1 >= 0xA4 && c1 <= 0xAB);
}

/* Byte classes of ASCII (and NUL, which ends a text); bytes >= 0x80 are told apart below. */
enum { SEP, WORD, GONE, END };
static uint8_t ascii_class[128];

static void init_classes(void) {
    for (int c = 0; c < 128; c++) {
        ascii_class[c] = ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) ? WORD : SEP;
    }
    ascii_class['\''] = ascii_class['`'] = ascii_class['['] = ascii_class[']'] = GONE;
    ascii_class[0] = END;
}

/* Scan `s`, writing up to `room` token hashes and `slots` offsets (one per NUL, plus the
 * first and the last); return the number of tokens and of NULs found. */
typedef struct {
    int64_t tokens, nuls;
} Counts;

static Counts scan_tokens(const uint8_t *s, Py_ssize_t n, uint64_t *hashes, int64_t *offsets,
                          Py_ssize_t slots, Py_ssize_t room) {
    int64_t tokens = 0, nuls = 0;
    uint64_t h = 0, power = 1, length = 0;
    int open = 0, cut_next = 0, spaceless_left = 0;
    Py_ssize_t i = 0;
/* Locals, not a struct through a pointer: stores to `hashes` may alias an int64_t field. */
#define CLOSE_TOKEN()                                                                          \
    do {                                                                                       \
        if (open) {                                                                            \
            if (tokens < room) { /* always: room is a bound, checked all the same */           \
                hashes[tokens] = fmix64(h + length);                                           \
            }                                                                                  \
            tokens++;                                                                          \
            open = 0;                                                                          \
        }                                                                                      \
    } while (0)
#define ADD_BYTE(c, cut)                                                                       \
    do {                                                                                       \
        if (!open || (cut)) {                                                                  \
            CLOSE_TOKEN();                                                                     \
            open = 1;                                                                          \
            h = 0;                                                                             \
            power = 1;                                                                         \
            length = 0;                                                                        \
        }                                                                                      \
        h += (uint64_t)(c) * power;                                                            \
        power *= FNV_PRIME;                                                                    \
        length++;                                                                              \
    } while (0)
    offsets[0] = 0;
    while (i < n) {
        const uint8_t c = s[i];
        if (c < 0x80 && spaceless_left == 0 && !cut_next) { /* the common case: ASCII */
            const uint8_t kind = ascii_class[c];
            i++;
            if (kind == WORD) {
                ADD_BYTE(c, 0);
            } else if (kind == SEP) {
                CLOSE_TOKEN();
            } else if (kind == END) {
                CLOSE_TOKEN();
                nuls++;
                if (nuls < slots) {
                    offsets[nuls] = tokens;
                }
            }
            continue;
        }
        const uint8_t c1 = i + 1 < n ? s[i + 1] : 0, c2 = i + 2 < n ? s[i + 2] : 0;
        int width = 1;
        if ((c < 0x80 && ascii_class[c] == GONE) || (c >= 0xC2 && vanishes(c, c1, c2, &width))) {
            i += width < n - i ? width : n - i; /* deleted: no byte of the folded text */
            continue;
        }
        int cut = cut_next;
        Py_ssize_t used = 1;
        cut_next = 0;
        if (c < 0x80) {
            const uint8_t kind = ascii_class[c];
            if (kind == WORD) {
                ADD_BYTE(c, cut);
            } else {
                CLOSE_TOKEN();
                if (kind == END) {
                    nuls++;
                    if (nuls < slots) {
                        offsets[nuls] = tokens;
                    }
                }
            }
        } else if (c >= 0xC2 && separates(c, c1, c2, &width)) {
            CLOSE_TOKEN();
            used = width < n - i ? width : n - i;
        } else {
            if (c >= 0xC2 && spaceless(c, c1)) {
                cut = 1; /* a spaceless character is a token of its own */
                spaceless_left = 3;
            }
            ADD_BYTE(c, cut);
        }
        i += used;
        if (spaceless_left > 0) {
            spaceless_left -= (int)used;
            if (spaceless_left <= 0) {
                spaceless_left = 0;
                cut_next = 1; /* the byte after a spaceless character starts a token */
            }
        }
    }
    CLOSE_TOKEN();
    if (nuls + 1 < slots) {
        offsets[nuls + 1] = tokens;
    }
#undef ADD_BYTE
#undef CLOSE_TOKEN
    return (Counts){tokens, nuls};
}

PyDoc_STRVAR(tokens_doc,
             "tokens(data, texts) -> (hashes, offsets)\n\n"
             "The token hashes (uint64) of lowercased UTF-8 `data` holding `texts` texts joined\n"
             "by NUL, and the texts' offsets into them (int64, texts + 1), as bytearrays: what\n"
             "shingles.token_hashes computes.");

static PyObject *tokens(PyObject *self, PyObject *args) {
    PyObject *obj, *hashes = NULL, *offsets = NULL;
    Py_ssize_t texts;
    Py_buffer v;
    if (!PyArg_ParseTuple(args, "On:tokens", &obj, &texts)) {
        return NULL;
    }
    if (get_buffer(obj, &v, 1, 0, "data") != 0) {
        return NULL;
    }
    /* In text a str encodes to, a token is one byte or more, and two tokens need a byte
     * between them or a spaceless character (3 bytes) on one side: at most one token per two
     * bytes, plus one. Other bytes (a run of spaceless first bytes) may hold more: then the
     * hashes are made room for and the text scanned again. */
    Py_ssize_t room = v.len / 2 + 1;
    Counts count;
    if (texts < 1) {
        PyErr_SetString(PyExc_ValueError, "tokens: 0 texts asked");
        goto fail;
    }
    hashes = PyByteArray_FromStringAndSize(NULL, room * 8);
    offsets = PyByteArray_FromStringAndSize(NULL, (texts + 1) * 8);
    if (hashes == NULL || offsets == NULL) {
        goto fail;
    }
    uint64_t *hash_out = (uint64_t *)PyByteArray_AS_STRING(hashes);
    int64_t *offset_out = (int64_t *)PyByteArray_AS_STRING(offsets);
    Py_BEGIN_ALLOW_THREADS
    count = scan_tokens(v.buf, v.len, hash_out, offset_out, texts + 1, room);
    Py_END_ALLOW_THREADS
    if (count.nuls != texts - 1) {
        PyErr_Format(PyExc_ValueError, "tokens: %zd texts asked, the data holds %lld", texts,
                     (long long)count.nuls + 1);
        goto fail;
    }
    if (count.tokens > room) {
        room = count.tokens;
        if (PyByteArray_Resize(hashes, room * 8) != 0) {
            goto fail;
        }
        hash_out = (uint64_t *)PyByteArray_AS_STRING(hashes);
        Py_BEGIN_ALLOW_THREADS
        count = scan_tokens(v.buf, v.len, hash_out, offset_out, texts + 1, room);
        Py_END_ALLOW_THREADS
    }
    if (PyByteArray_Resize(hashes, count.tokens * 8) != 0) {
        goto fail;
    }
    PyBuffer_Release(&v);
    return Py_BuildValue("(NN)", hashes, offsets);
fail:
    Py_XDECREF(hashes);
    Py_XDECREF(offsets);
    PyBuffer_Release(&v);
    return NULL;
}

static PyMethodDef methods[] = {
    {"minhash", minhash, METH_VARARGS, minhash_doc},
    {"tokens", tokens, METH_VARARGS, tokens_doc},
    {"shingle_hashes", shingle_hashes, METH_VARARGS, shingle_hashes_doc},
    {"fingerprints", fingerprints, METH_VARARGS, fingerprints_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "cleanup.dedup._kernels", "Compiled inner loops of dedup's hashing.",
    -1, methods,
};

PyMODINIT_FUNC PyInit__kernels(void) {
    init_classes();
    return PyModule_Create(&module);
}
