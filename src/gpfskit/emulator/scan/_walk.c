/*
 * gpfskit.emulator.scan._walk -- list directories and stat their entries, GIL released.
 *
 * One call lists a batch of directories of one tree with getdents64 and stats each entry
 * with statx (fstatat where statx is missing) relative to the directory fd, never following
 * symbolic links. Results come back as flat buffers that numpy and pyarrow wrap without
 * copying: the visible paths and the names as byte blobs with int32 offsets, one int64 or
 * float64 array per attribute, plus the subdirectories found (the caller's walk frontier).
 *
 * For gpfskit.clib it also lists single directories ahead on its own threads (list_ahead)
 * and hands out records from columns (Records of Rows, whose fields are read on access).
 *
 * The pure-Python twin is _pywalk.py; both must produce identical output (tests compare).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <unistd.h>

#if defined(STATX_BTIME) && defined(STATX_BASIC_STATS)
#define GPK_HAVE_STATX 1
#else
#define GPK_HAVE_STATX 0
#endif

/* Entry kinds (the KIND column) and flag bits (letters in MISC_ATTRIBUTES). */
enum { KIND_FILE = 0, KIND_DIR = 1, KIND_LINK = 2, KIND_OTHER = 3 };
enum { FLAG_IMMUTABLE = 1, FLAG_APPEND = 2, FLAG_COMPRESSED = 4, FLAG_ENCRYPTED = 8 };
/* Call flags. */
enum { WANT_ALL_KINDS = 1, WANT_NAMES = 2, WANT_MODE = 4, WANT_MISC = 8, NO_PATHS = 16 };

#define MAX_XATTRS 16
#define MAX_ERRORS 256
#define DENTS_BUF (64 * 1024)
/* Keep blobs addressable by int32 offsets with room for one more path. */
#define BLOB_LIMIT ((size_t)INT32_MAX - (size_t)65536)

/* ------------------------------------------------------------------ memory */

/* Large blocks freed by Buffers are kept in a small pool and handed to the next listing,
 * which then writes to memory that is already mapped instead of faulting in fresh zeroed
 * pages. Measured over a million-row scan: about a fifth fewer page faults, ~3% less time
 * and a slightly lower peak RSS (the batches of the first rounds are new memory whatever
 * we do). Bounded: POOL_SLOTS blocks, POOL_LIMIT bytes. */
#define POOL_SLOTS 64
#define POOL_MIN ((size_t)64 * 1024)
#define POOL_LIMIT ((size_t)32 * 1024 * 1024)

static struct {
    void *p;
    size_t cap;
} pool[POOL_SLOTS];
static int pool_n;
static size_t pool_bytes;
static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;

/* A block of at least `size` bytes; its real capacity goes to *cap. */
static void *mem_alloc(size_t size, size_t *cap) {
    if (size >= POOL_MIN) {
        int best = -1;
        pthread_mutex_lock(&pool_mu);
        for (int i = 0; i < pool_n; i++) {
            if (pool[i].cap >= size && pool[i].cap <= 2 * size &&
                (best < 0 || pool[i].cap < pool[best].cap))
                best = i;
        }
        if (best >= 0) {
            void *p = pool[best].p;
            *cap = pool[best].cap;
            pool_bytes -= pool[best].cap;
            pool[best] = pool[--pool_n];
            pthread_mutex_unlock(&pool_mu);
            return p;
        }
        pthread_mutex_unlock(&pool_mu);
    }
    *cap = size;
    return malloc(size ? size : 1);
}

static void mem_free(void *p, size_t cap) {
    if (p == NULL) return;
    if (cap >= POOL_MIN) {
        pthread_mutex_lock(&pool_mu);
        if (pool_n < POOL_SLOTS && pool_bytes + cap <= POOL_LIMIT) {
            pool[pool_n].p = p;
            pool[pool_n].cap = cap;
            pool_n++;
            pool_bytes += cap;
            pthread_mutex_unlock(&pool_mu);
            return;
        }
        pthread_mutex_unlock(&pool_mu);
    }
    free(p);
}

/* Grows *p (capacity *cap, `used` bytes in use) to hold at least `need` bytes. */
static int mem_grow(void **p, size_t *cap, size_t used, size_t need) {
    if (need <= *cap && *p != NULL) return 0;
    size_t newcap;
    void *q = mem_alloc(need, &newcap);
    if (q == NULL) return -1;
    if (used) memcpy(q, *p, used);
    mem_free(*p, *cap);
    *p = q;
    *cap = newcap;
    return 0;
}

/* ------------------------------------------------------------------ Buffer type */

typedef struct {
    PyObject_HEAD
    char *data;
    Py_ssize_t size;
    size_t cap;
} BufferObject;

static void Buffer_dealloc(BufferObject *self) {
    mem_free(self->data, self->cap);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int Buffer_getbuffer(BufferObject *self, Py_buffer *view, int flags) {
    return PyBuffer_FillInfo(view, (PyObject *)self, self->data ? self->data : "", self->size, 0,
                             flags);
}

static Py_ssize_t Buffer_length(BufferObject *self) { return self->size; }

static PyBufferProcs Buffer_as_buffer = {(getbufferproc)Buffer_getbuffer, NULL};
static PySequenceMethods Buffer_as_sequence = {(lenfunc)Buffer_length};

static PyTypeObject BufferType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "gpfskit.emulator.scan._walk.Buffer",
    .tp_basicsize = sizeof(BufferObject),
    .tp_dealloc = (destructor)Buffer_dealloc,
    .tp_as_buffer = &Buffer_as_buffer,
    .tp_as_sequence = &Buffer_as_sequence,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Memory owned by the scanner, exported through the buffer protocol.",
};

/* Hands `data` (`size` bytes used of `cap` allocated) to a new Buffer; frees it on failure. */
static PyObject *buffer_take(void *data, Py_ssize_t size, size_t cap) {
    BufferObject *b = PyObject_New(BufferObject, &BufferType);
    if (b == NULL) {
        mem_free(data, cap);
        return NULL;
    }
    b->data = data;
    b->size = size;
    b->cap = cap;
    return (PyObject *)b;
}

/* ------------------------------------------------------------------ growable storage */

typedef struct {
    char *data;
    size_t len, cap;
} Blob;

static int blob_reserve(Blob *b, size_t extra) {
    if (b->len + extra <= b->cap && b->data != NULL) return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra) cap *= 2;
    void *d = b->data;
    if (mem_grow(&d, &b->cap, b->len, cap) < 0) return -1;
    b->data = d;
    return 0;
}

static void blob_free(Blob *b) {
    mem_free(b->data, b->cap);
    memset(b, 0, sizeof(*b));
}

static int blob_append(Blob *b, const void *src, size_t n) {
    if (blob_reserve(b, n) < 0) return -1;
    memcpy(b->data + b->len, src, n);
    b->len += n;
    return 0;
}

/* The numeric per-row columns, each allocated only when asked for: int64, then float64. */
enum {
    C_INO, C_MODE, C_NLINK, C_UID, C_GID, C_SIZE, C_KB, C_BLKSIZE, C_DEV, C_RDEV, C_GEN,
    C_ATIME, C_MTIME, C_CTIME, C_BTIME, NUM_COLS
};
#define FIRST_DOUBLE C_ATIME
static const char *const col_names[NUM_COLS] = {
    "ino", "mode", "nlink", "uid", "gid", "size", "kb", "blksize", "dev", "rdev", "gen",
    "atime", "mtime", "ctime", "btime",
};

/* Per-row columns. The offsets arrays hold n + 1 entries. */
typedef struct {
    size_t n, cap;
    int want[NUM_COLS];
    void *num[NUM_COLS];  /* 8 bytes per row: int64_t or double */
    int32_t *dir;
    uint8_t *kind, *flags;
    int32_t *path_off, *name_off, *misc_off;
    Blob path, name, misc, modes;
    int nx;
    int32_t *x_off[MAX_XATTRS];
    uint8_t *x_valid[MAX_XATTRS];
    Blob x_blob[MAX_XATTRS];
} Rows;

/* Row arrays hold (cap + extra) elements; their byte capacity follows from r->cap (a block
 * from the pool may be larger: under-reporting its size to mem_free is harmless). */
#define ARR_BYTES(rcap, size_each, extra) ((rcap) ? ((rcap) + (extra)) * (size_each) : 0)
#define GROW(field, size_each, extra)                                                   \
    do {                                                                                \
        void *p_ = r->field;                                                            \
        size_t have_ = ARR_BYTES(r->cap, size_each, extra);                             \
        if (mem_grow(&p_, &have_, have_, (cap + (extra)) * (size_each)) < 0) return -1; \
        r->field = p_;                                                                  \
    } while (0)

static int rows_grow(Rows *r, size_t want) {
    size_t cap = r->cap ? r->cap * 2 : (want ? want : 1024);
    for (int c = 0; c < NUM_COLS; c++) {
        if (r->want[c]) GROW(num[c], 8, 0);
    }
    GROW(dir, 4, 0); GROW(kind, 1, 0); GROW(flags, 1, 0);
    GROW(path_off, 4, 1); GROW(name_off, 4, 1); GROW(misc_off, 4, 1);
    for (int k = 0; k < r->nx; k++) {
        GROW(x_off[k], 4, 1);
        GROW(x_valid[k], 1, 0);
    }
    if (r->cap == 0) {
        r->path_off[0] = 0;
        r->name_off[0] = 0;
        r->misc_off[0] = 0;
        for (int k = 0; k < r->nx; k++) r->x_off[k][0] = 0;
    }
    r->cap = cap;
    return 0;
}

static void rows_free(Rows *r) {
    size_t c8 = ARR_BYTES(r->cap, 8, 0), c4 = ARR_BYTES(r->cap, 4, 0);
    size_t c1 = ARR_BYTES(r->cap, 1, 0), o4 = ARR_BYTES(r->cap, 4, 1);
    mem_free(r->dir, c4);
    mem_free(r->kind, c1);
    mem_free(r->flags, c1);
    mem_free(r->path_off, o4);
    mem_free(r->name_off, o4);
    mem_free(r->misc_off, o4);
    for (int c = 0; c < NUM_COLS; c++) mem_free(r->num[c], c8);
    for (int k = 0; k < r->nx; k++) {
        mem_free(r->x_off[k], o4);
        mem_free(r->x_valid[k], c1);
        blob_free(&r->x_blob[k]);
    }
    blob_free(&r->path);
    blob_free(&r->name);
    blob_free(&r->misc);
    blob_free(&r->modes);
    memset(r, 0, sizeof(*r));
}

/* Subdirectories found: relative paths (blob + offsets), listing-dir index, row (-1 if none). */
typedef struct {
    size_t n, cap;
    Blob rel;
    size_t *off;  /* n + 1 */
    int32_t *parent;
    int64_t *row;
} Subdirs;

static int subdirs_add(Subdirs *s, const char *rel, size_t rel_len, const char *name,
                       size_t name_len, int32_t parent, int64_t row) {
    if (s->n + 1 >= s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        size_t *o = realloc(s->off, (cap + 1) * sizeof(size_t));
        if (o == NULL) return -1;
        s->off = o;
        int32_t *p = realloc(s->parent, cap * sizeof(int32_t));
        if (p == NULL) return -1;
        s->parent = p;
        int64_t *w = realloc(s->row, cap * sizeof(int64_t));
        if (w == NULL) return -1;
        s->row = w;
        if (s->cap == 0) s->off[0] = 0;
        s->cap = cap;
    }
    if (rel_len) {
        if (blob_append(&s->rel, rel, rel_len) < 0 || blob_append(&s->rel, "/", 1) < 0)
            return -1;
    }
    if (blob_append(&s->rel, name, name_len) < 0) return -1;
    s->parent[s->n] = parent;
    s->row[s->n] = row;
    s->n++;
    s->off[s->n] = s->rel.len;
    return 0;
}

typedef struct {
    size_t n;
    Blob paths;
    size_t off[MAX_ERRORS + 1];
    int err[MAX_ERRORS];
    char op[MAX_ERRORS];
} Errors;

static void errors_add(Errors *e, const char *dir, size_t dir_len, const char *name, int err,
                       char op) {
    if (e->n >= MAX_ERRORS) return;
    if (e->n == 0) e->off[0] = 0;
    size_t before = e->paths.len;
    int bad = blob_append(&e->paths, dir, dir_len) < 0;
    if (!bad && name != NULL) {
        bad = (dir_len && blob_append(&e->paths, "/", 1) < 0) ||
              blob_append(&e->paths, name, strlen(name)) < 0;
    }
    if (bad) {
        e->paths.len = before;
        return;
    }
    e->err[e->n] = err;
    e->op[e->n] = op;
    e->n++;
    e->off[e->n] = e->paths.len;
}

/* ------------------------------------------------------------------ stat */

struct gpk_stat {
    uint64_t ino, size, blocks;
    uint32_t mode, nlink, uid, gid, blksize;
    int64_t dev, rdev;
    int64_t a_s, m_s, c_s, b_s;
    uint32_t a_ns, m_ns, c_ns, b_ns;
    uint32_t attrs;
    int ctime_known;  /* statx may leave it out: then nothing may be trusted on it */
};

static int use_statx = GPK_HAVE_STATX;

static int do_stat(int dirfd, const char *name, struct gpk_stat *st) {
#if GPK_HAVE_STATX
    if (use_statx) {
        struct statx sx;
        if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT,
                  STATX_BASIC_STATS | STATX_BTIME, &sx) == 0) {
            st->ino = sx.stx_ino;
            st->size = sx.stx_size;
            st->blocks = sx.stx_blocks;
            st->mode = sx.stx_mode;
            st->nlink = sx.stx_nlink;
            st->uid = sx.stx_uid;
            st->gid = sx.stx_gid;
            st->blksize = sx.stx_blksize;
            st->dev = (int64_t)makedev(sx.stx_dev_major, sx.stx_dev_minor);
            st->rdev = (int64_t)makedev(sx.stx_rdev_major, sx.stx_rdev_minor);
            st->a_s = sx.stx_atime.tv_sec; st->a_ns = sx.stx_atime.tv_nsec;
            st->m_s = sx.stx_mtime.tv_sec; st->m_ns = sx.stx_mtime.tv_nsec;
            st->c_s = sx.stx_ctime.tv_sec; st->c_ns = sx.stx_ctime.tv_nsec;
            st->ctime_known = (sx.stx_mask & STATX_CTIME) != 0;
            if (sx.stx_mask & STATX_BTIME) {
                st->b_s = sx.stx_btime.tv_sec; st->b_ns = sx.stx_btime.tv_nsec;
            } else {
                st->b_s = st->c_s; st->b_ns = st->c_ns;
            }
            uint64_t a = sx.stx_attributes;
            st->attrs = ((a & STATX_ATTR_IMMUTABLE) ? FLAG_IMMUTABLE : 0) |
                        ((a & STATX_ATTR_APPEND) ? FLAG_APPEND : 0) |
                        ((a & STATX_ATTR_COMPRESSED) ? FLAG_COMPRESSED : 0) |
                        ((a & STATX_ATTR_ENCRYPTED) ? FLAG_ENCRYPTED : 0);
            return 0;
        }
        if (errno != ENOSYS) return -1;
        use_statx = 0;  /* kernel without statx: fstatat from now on */
    }
#endif
    struct stat s;
    if (fstatat(dirfd, name, &s, AT_SYMLINK_NOFOLLOW) != 0) return -1;
    st->ino = s.st_ino;
    st->size = (uint64_t)s.st_size;
    st->blocks = (uint64_t)s.st_blocks;
    st->mode = s.st_mode;
    st->nlink = (uint32_t)s.st_nlink;
    st->uid = s.st_uid;
    st->gid = s.st_gid;
    st->blksize = (uint32_t)s.st_blksize;
    st->dev = (int64_t)s.st_dev;
    st->rdev = (int64_t)s.st_rdev;
    st->a_s = s.st_atim.tv_sec; st->a_ns = s.st_atim.tv_nsec;
    st->m_s = s.st_mtim.tv_sec; st->m_ns = s.st_mtim.tv_nsec;
    st->c_s = s.st_ctim.tv_sec; st->c_ns = s.st_ctim.tv_nsec;
    st->b_s = st->c_s; st->b_ns = st->c_ns;
    st->attrs = 0;
    st->ctime_known = 1;
    return 0;
}

static inline uint64_t mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

/* GENERATION: a stable 32-bit value from the inode number and the birth time. */
static inline int64_t generation(uint64_t ino, int64_t b_s, uint32_t b_ns) {
    uint64_t birth = (uint64_t)b_s * 1000000000ULL + (uint64_t)b_ns;
    return (int64_t)(mix64(ino ^ mix64(birth)) & 0xffffffffULL);
}

static inline int kind_of_mode(uint32_t mode) {
    switch (mode & S_IFMT) {
    case S_IFREG: return KIND_FILE;
    case S_IFDIR: return KIND_DIR;
    case S_IFLNK: return KIND_LINK;
    default: return KIND_OTHER;
    }
}

/* MODE as `ls -l` shows it: 10 characters. */
static void mode_string(char *out, uint32_t mode) {
    static const char types[16] = "?pc?d?b?-?l?s???";
    out[0] = types[(mode >> 12) & 15];
    out[1] = (mode & 0400) ? 'r' : '-';
    out[2] = (mode & 0200) ? 'w' : '-';
    out[3] = (mode & 04000) ? ((mode & 0100) ? 's' : 'S') : ((mode & 0100) ? 'x' : '-');
    out[4] = (mode & 040) ? 'r' : '-';
    out[5] = (mode & 020) ? 'w' : '-';
    out[6] = (mode & 02000) ? ((mode & 010) ? 's' : 'S') : ((mode & 010) ? 'x' : '-');
    out[7] = (mode & 04) ? 'r' : '-';
    out[8] = (mode & 02) ? 'w' : '-';
    out[9] = (mode & 01000) ? ((mode & 01) ? 't' : 'T') : ((mode & 01) ? 'x' : '-');
}

/* MISC_ATTRIBUTES: kind letter, then X (immutable) a (append-only) c (compressed)
 * e (encrypted). Returns the length. */
static size_t misc_string(char *out, int kind, uint32_t attrs) {
    size_t k = 0;
    out[k++] = "FDLO"[kind & 3];
    if (attrs & FLAG_IMMUTABLE) out[k++] = 'X';
    if (attrs & FLAG_APPEND) out[k++] = 'a';
    if (attrs & FLAG_COMPRESSED) out[k++] = 'c';
    if (attrs & FLAG_ENCRYPTED) out[k++] = 'e';
    return k;
}

/* ------------------------------------------------------------------ prefilter */

/* The numeric values of one entry, in column order: int64 up to FIRST_DOUBLE, then the
 * four times as float64 seconds. Rows and the prefilter read the same values. */
static void entry_values(const struct gpk_stat *st, int64_t iv[FIRST_DOUBLE], double dv[4]) {
    iv[C_INO] = (int64_t)st->ino;
    iv[C_MODE] = st->mode;
    iv[C_NLINK] = st->nlink;
    iv[C_UID] = st->uid;
    iv[C_GID] = st->gid;
    iv[C_SIZE] = (int64_t)st->size;
    iv[C_KB] = (int64_t)((st->blocks + 1) / 2);
    iv[C_BLKSIZE] = st->blksize;
    iv[C_DEV] = st->dev;
    iv[C_RDEV] = st->rdev;
    iv[C_GEN] = generation(st->ino, st->b_s, st->b_ns);
    dv[0] = (double)st->a_s + (double)st->a_ns * 1e-9;
    dv[1] = (double)st->m_s + (double)st->m_ns * 1e-9;
    dv[2] = (double)st->c_s + (double)st->c_ns * 1e-9;
    dv[3] = (double)st->b_s + (double)st->b_ns * 1e-9;
}

/* A prefilter: rows only for entries where at least one conjunction of comparisons
 * `column op constant` holds (the caller re-checks whatever it needs exactly; this only
 * spares building rows that cannot matter). */
#define MAX_ATOMS 64
#define MAX_CONJ 32
enum { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };
static const char *const op_names[] = {"=", "<>", "<", "<=", ">", ">="};

typedef struct {
    int col, op, is_int;
    int64_t i;
    double d;
} Atom;

typedef struct {
    int active;  /* 0: every entry passes */
    int n_conj;
    int conj_end[MAX_CONJ];
    Atom atoms[MAX_ATOMS];
} Prefilter;

#define COMPARE(op, x, y)                  \
    ((op) == OP_EQ ? (x) == (y) :          \
     (op) == OP_NE ? (x) != (y) :          \
     (op) == OP_LT ? (x) < (y) :           \
     (op) == OP_LE ? (x) <= (y) :          \
     (op) == OP_GT ? (x) > (y) : (x) >= (y))

static int atom_holds(const Atom *a, const int64_t *iv, const double *dv) {
    if (a->col >= FIRST_DOUBLE) return COMPARE(a->op, dv[a->col - FIRST_DOUBLE], a->d);
    if (a->is_int) return COMPARE(a->op, iv[a->col], a->i);
    return COMPARE(a->op, (double)iv[a->col], a->d);
}

static int prefilter_passes(const Prefilter *f, const int64_t *iv, const double *dv) {
    int start = 0;
    for (int c = 0; c < f->n_conj; c++) {
        int ok = 1;
        for (int a = start; a < f->conj_end[c] && ok; a++) ok = atom_holds(&f->atoms[a], iv, dv);
        if (ok) return 1;
        start = f->conj_end[c];
    }
    return 0;
}

/* Reads [(column, op, value), ...] conjunctions; None leaves the prefilter inactive. */
static int prefilter_parse(PyObject *spec, Prefilter *f) {
    memset(f, 0, sizeof(*f));
    if (spec == Py_None) return 0;
    PyObject *conjs = PySequence_Fast(spec, "prefilter must be a sequence of conjunctions");
    if (conjs == NULL) return -1;
    Py_ssize_t nc = PySequence_Fast_GET_SIZE(conjs);
    int n_atoms = 0, rc = -1;
    if (nc > MAX_CONJ) {
        PyErr_Format(PyExc_ValueError, "at most %d prefilter conjunctions", MAX_CONJ);
        goto out;
    }
    for (Py_ssize_t c = 0; c < nc; c++) {
        PyObject *conj = PySequence_Fast(PySequence_Fast_GET_ITEM(conjs, c),
                                         "a conjunction must be a sequence of comparisons");
        if (conj == NULL) goto out;
        Py_ssize_t na = PySequence_Fast_GET_SIZE(conj);
        if (n_atoms + na > MAX_ATOMS) {
            PyErr_Format(PyExc_ValueError, "at most %d prefilter comparisons", MAX_ATOMS);
            Py_DECREF(conj);
            goto out;
        }
        for (Py_ssize_t k = 0; k < na; k++) {
            PyObject *item = PySequence_Fast_GET_ITEM(conj, k);
            const char *col, *op;
            PyObject *value;
            if (!PyArg_ParseTuple(item, "ssO;a comparison is (column, op, value)", &col, &op,
                                  &value)) {
                Py_DECREF(conj);
                goto out;
            }
            Atom *a = &f->atoms[n_atoms++];
            a->col = a->op = -1;
            for (int j = 0; j < NUM_COLS; j++)
                if (strcmp(col, col_names[j]) == 0) a->col = j;
            for (int j = 0; j < 6; j++)
                if (strcmp(op, op_names[j]) == 0) a->op = j;
            if (a->col < 0 || a->op < 0) {
                PyErr_Format(PyExc_ValueError, "bad prefilter comparison %R", item);
                Py_DECREF(conj);
                goto out;
            }
            if (PyLong_Check(value) && !PyBool_Check(value)) {
                int overflow;
                a->i = PyLong_AsLongLongAndOverflow(value, &overflow);
                if (a->i == -1 && PyErr_Occurred()) {
                    Py_DECREF(conj);
                    goto out;
                }
                a->is_int = !overflow;
            }
            if (!a->is_int || a->col >= FIRST_DOUBLE) {
                a->d = PyFloat_AsDouble(value);
                if (a->d == -1.0 && PyErr_Occurred()) {
                    Py_DECREF(conj);
                    goto out;
                }
                a->is_int = a->is_int && a->col < FIRST_DOUBLE;
            }
        }
        Py_DECREF(conj);
        f->conj_end[f->n_conj++] = n_atoms;
    }
    f->active = 1;
    rc = 0;
out:
    Py_DECREF(conjs);
    return rc;
}

/* ------------------------------------------------------------------ the listing */

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

typedef struct {
    /* inputs */
    const char *root;
    size_t root_len;
    const char *prefix;
    size_t prefix_len;
    Py_ssize_t ndirs;
    const char **dirs;
    size_t *dir_lens;
    int64_t *starts;
    /* hide: per dir, a range [hide_lo[i], hide_hi[i]) into hide_names */
    Py_ssize_t *hide_lo, *hide_hi;
    const char **hide_names;
    size_t max_rows;
    int flags;
    int nx;
    const char *xnames[MAX_XATTRS];
    Prefilter where;
    /* the xattr memo (see list_dirs): entries it answers are not read again */
    int memo;
    int64_t memo_before_ns, memo_dev;
    const int64_t *memo_dirs;
    size_t memo_ndirs;
    const int64_t *memo_inos[MAX_XATTRS];
    size_t memo_n[MAX_XATTRS];
    const int32_t *memo_off[MAX_XATTRS];
    const char *memo_blob[MAX_XATTRS];
    size_t memo_blob_len[MAX_XATTRS];
    /* outputs */
    int64_t *listed_ino;  /* with a memo: per dir, its inode (-1: not known) */
    uint8_t *listed_ok;   /* ... and 1 where this call listed its part of it in full */
    int64_t n_remembered;
    Rows rows;
    Subdirs subs;
    Errors errs;
    Py_ssize_t consumed;
    int64_t resume;
    int64_t n_files, n_dirs, n_others, n_errors, n_skipped;
} Job;

/* getxattrat (Linux 6.13): the attribute of `name` in the open directory `dirfd`, without
 * resolving the whole path again. Measured over a million files: a quarter less system time
 * per attribute than lgetxattr on the full path. Kernels without it: lgetxattr. */
#if defined(__NR_getxattrat)
#define GPK_SYS_GETXATTRAT __NR_getxattrat
#elif defined(__x86_64__) || defined(__aarch64__)
#define GPK_SYS_GETXATTRAT 464
#endif
#ifdef GPK_SYS_GETXATTRAT
struct gpk_xattr_args {
    uint64_t value;
    uint32_t size;
    uint32_t flags;
};
static int use_getxattrat = 1;
#endif

static ssize_t get_xattr(int dirfd, const char *name, const char *path, const char *xname,
                         char *value, size_t size) {
#ifdef GPK_SYS_GETXATTRAT
    if (use_getxattrat) {
        struct gpk_xattr_args args = {(uint64_t)(uintptr_t)value, (uint32_t)size, 0};
        long got = syscall(GPK_SYS_GETXATTRAT, dirfd, name, AT_SYMLINK_NOFOLLOW, xname, &args,
                           sizeof(args));
        if (got >= 0 || errno != ENOSYS) return (ssize_t)got;
        use_getxattrat = 0;
    }
#else
    (void)dirfd;
    (void)name;
#endif
    return lgetxattr(path, xname, value, size);
}

/* Reads the row's attributes; *complete drops to 0 when one could not be read for another
 * reason than its absence (a memo must not remember a failed read as "none"). */
static int read_xattr(Job *job, int dirfd, Blob *scratch_path, size_t base_len, const char *name,
                      size_t row, int *complete) {
    Rows *r = &job->rows;
    scratch_path->len = base_len;
    if (blob_append(scratch_path, name, strlen(name) + 1) < 0) return -1;
    const char *path = scratch_path->data;
    for (int k = 0; k < job->nx; k++) {
        Blob *b = &r->x_blob[k];
        uint8_t valid = 0;
        if (blob_reserve(b, 256) < 0) return -1;
        ssize_t got = get_xattr(dirfd, name, path, job->xnames[k], b->data + b->len, 256);
        if (got < 0 && errno == ERANGE) {
            ssize_t need = get_xattr(dirfd, name, path, job->xnames[k], NULL, 0);
            got = -1;
            errno = ERANGE;       /* what stands when the value does not fit after all */
            if (need > 0 && b->len + (size_t)need < BLOB_LIMIT) {  /* int32 offsets */
                if (blob_reserve(b, (size_t)need) < 0) return -1;
                got = get_xattr(dirfd, name, path, job->xnames[k], b->data + b->len,
                                (size_t)need);
            }
        }
        if (got >= 0) {
            b->len += (size_t)got;
            valid = 1;
        } else if (errno != ENODATA && errno != ENOTSUP) {
            *complete = 0;
        }
        r->x_valid[k][row] = valid;
        r->x_off[k][row + 1] = (int32_t)b->len;
    }
    return 0;
}

/* Index of `key` in the sorted array `a` of `n`, or -1. */
static Py_ssize_t find_sorted(const int64_t *a, size_t n, int64_t key) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] < key) lo = mid + 1;
        else hi = mid;
    }
    return lo < n && a[lo] == key ? (Py_ssize_t)lo : -1;
}

/* The row's attributes from the memo: the values it holds for `ino`, absent where none
 * (*complete drops to 0 where a value held cannot be handed out). */
static int memo_xattrs(Job *job, uint64_t ino, size_t row, int *complete) {
    Rows *r = &job->rows;
    for (int k = 0; k < job->nx; k++) {
        Blob *b = &r->x_blob[k];
        uint8_t valid = 0;
        Py_ssize_t j = find_sorted(job->memo_inos[k], job->memo_n[k], (int64_t)ino);
        if (j >= 0) {
            int32_t lo = job->memo_off[k][j], hi = job->memo_off[k][j + 1];
            if (0 <= lo && lo <= hi && (size_t)hi <= job->memo_blob_len[k] &&
                b->len + (size_t)(hi - lo) < BLOB_LIMIT) {
                if (blob_append(b, job->memo_blob[k] + lo, (size_t)(hi - lo)) < 0) return -1;
                valid = 1;
            } else {
                *complete = 0;
            }
        }
        r->x_valid[k][row] = valid;
        r->x_off[k][row + 1] = (int32_t)b->len;
    }
    job->n_remembered += 1;
    return 0;
}

static int open_dir(int rootfd, const char *rel, int *noatime) {
    const char *path = rel[0] ? rel : ".";
    for (;;) {
        int fd = openat(rootfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | *noatime);
        if (fd >= 0 || errno != EPERM || *noatime == 0) return fd;
        *noatime = 0;  /* O_NOATIME needs ownership; list without it */
    }
}

/* Runs without the GIL. Returns -1 only on memory exhaustion. */
static int run_job(Job *job) {
    Rows *r = &job->rows;
    Blob vis = {0}, real = {0}, dents = {0};
    size_t real_base = 0;
    int noatime = O_NOATIME;
    int rc = 0;
    const int all_kinds = job->flags & WANT_ALL_KINDS;
    const int want_names = job->flags & WANT_NAMES;
    const int want_mode = job->flags & WANT_MODE;
    const int want_misc = job->flags & WANT_MISC;
    const int want_paths = !(job->flags & NO_PATHS);
    job->consumed = job->ndirs;
    job->resume = 0;
    if (blob_reserve(&dents, DENTS_BUF) < 0) return -1;

    int rootfd = open(job->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) {
        errors_add(&job->errs, job->root, job->root_len, NULL, errno, 'o');
        job->n_errors += 1;
        goto out;
    }

    for (Py_ssize_t i = 0; i < job->ndirs; i++) {
        if (r->n >= job->max_rows || r->path.len >= BLOB_LIMIT) {
            job->consumed = i;
            break;
        }
        const char *rel = job->dirs[i];
        size_t rel_len = job->dir_lens[i];
        int fd = open_dir(rootfd, rel, &noatime);
        if (fd < 0) {
            int e = errno;
            errors_add(&job->errs, rel, rel_len, NULL, e, 'o');
            if (e == EACCES || e == EPERM) job->n_skipped += 1;
            else job->n_errors += 1;
            continue;
        }
        if (job->starts[i] && lseek(fd, (off_t)job->starts[i], SEEK_SET) < 0) {
            errors_add(&job->errs, rel, rel_len, NULL, errno, 's');
            job->n_errors += 1;
            close(fd);
            continue;
        }
        /* visible directory path: prefix [+ "/" + rel] */
        vis.len = 0;
        if (blob_append(&vis, job->prefix, job->prefix_len) < 0) goto oom;
        if (rel_len && (blob_append(&vis, "/", 1) < 0 || blob_append(&vis, rel, rel_len) < 0))
            goto oom;
        if (job->nx) {  /* real directory path, for the path-based xattr calls */
            real.len = 0;
            if (blob_append(&real, job->root, job->root_len) < 0 || blob_append(&real, "/", 1) < 0)
                goto oom;
            if (rel_len && (blob_append(&real, rel, rel_len) < 0 || blob_append(&real, "/", 1) < 0))
                goto oom;
            real_base = real.len;
        }
        Py_ssize_t hlo = job->hide_lo ? job->hide_lo[i] : 0;
        Py_ssize_t hhi = job->hide_lo ? job->hide_hi[i] : 0;
        int stop = 0;
        /* With a memo: whether this directory was listed in full by the scan that made it
         * (its entries unchanged since may take their attributes from it), and whether this
         * call lists its part in full (for the next memo). */
        int trusted = 0, complete = 0;
        if (job->memo) {
            struct stat ds;
            if (fstat(fd, &ds) == 0) {
                job->listed_ino[i] = (int64_t)ds.st_ino;
                complete = (int64_t)ds.st_dev == job->memo_dev && all_kinds && !job->where.active;
                trusted = complete &&
                          find_sorted(job->memo_dirs, job->memo_ndirs, (int64_t)ds.st_ino) >= 0;
            }
        }
        for (;;) {
            long nread = syscall(SYS_getdents64, fd, dents.data, DENTS_BUF);
            if (nread < 0) {
                errors_add(&job->errs, rel, rel_len, NULL, errno, 'r');
                job->n_errors += 1;
                complete = 0;
                break;
            }
            if (nread == 0) break;
            for (long pos = 0; pos < nread;) {
                struct linux_dirent64 *d = (struct linux_dirent64 *)(dents.data + pos);
                pos += d->d_reclen;
                const char *name = d->d_name;
                if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0)))
                    continue;
                int hidden = 0;
                for (Py_ssize_t h = hlo; h < hhi; h++) {
                    if (strcmp(name, job->hide_names[h]) == 0) {
                        hidden = 1;
                        break;
                    }
                }
                if (hidden) {
                    complete = 0;
                    continue;
                }
                int kind;
                switch (d->d_type) {
                case DT_REG: kind = KIND_FILE; break;
                case DT_DIR: kind = KIND_DIR; break;
                case DT_LNK: kind = KIND_LINK; break;
                case DT_UNKNOWN: kind = -1; break;
                default: kind = KIND_OTHER; break;
                }
                int emit = kind == KIND_FILE || all_kinds;
                struct gpk_stat st;
                if (emit || kind < 0) {
                    if (do_stat(fd, name, &st) != 0) {
                        errors_add(&job->errs, rel, rel_len, name, errno, 't');
                        job->n_errors += 1;
                        complete = 0;
                        goto next;
                    }
                    kind = kind_of_mode(st.mode);
                    emit = kind == KIND_FILE || all_kinds;
                }
                if (kind == KIND_FILE) job->n_files += 1;
                else if (kind == KIND_DIR) job->n_dirs += 1;
                else job->n_others += 1;
                size_t name_len = strlen(name);
                int64_t row = -1;
                int64_t iv[FIRST_DOUBLE];
                double dv[4];
                if (emit) {
                    entry_values(&st, iv, dv);
                    emit = !job->where.active || prefilter_passes(&job->where, iv, dv);
                }
                if (emit) {
                    if (r->n >= r->cap && rows_grow(r, job->max_rows < 131072 ? job->max_rows : 131072) < 0) goto oom;
                    size_t n = r->n;
                    row = (int64_t)n;
                    for (int c = 0; c < FIRST_DOUBLE; c++)
                        if (r->num[c]) ((int64_t *)r->num[c])[n] = iv[c];
                    for (int c = FIRST_DOUBLE; c < NUM_COLS; c++)
                        if (r->num[c]) ((double *)r->num[c])[n] = dv[c - FIRST_DOUBLE];
                    r->dir[n] = (int32_t)i;
                    r->kind[n] = (uint8_t)kind;
                    r->flags[n] = (uint8_t)st.attrs;
                    if (want_paths) {
                        if (blob_reserve(&r->path, vis.len + 1 + name_len) < 0) goto oom;
                        memcpy(r->path.data + r->path.len, vis.data, vis.len);
                        r->path.data[r->path.len + vis.len] = '/';
                        memcpy(r->path.data + r->path.len + vis.len + 1, name, name_len);
                        r->path.len += vis.len + 1 + name_len;
                    }
                    r->path_off[n + 1] = (int32_t)r->path.len;
                    if (want_names) {
                        if (blob_append(&r->name, name, name_len) < 0) goto oom;
                    }
                    r->name_off[n + 1] = (int32_t)r->name.len;
                    if (want_mode) {
                        if (blob_reserve(&r->modes, 10) < 0) goto oom;
                        mode_string(r->modes.data + r->modes.len, st.mode);
                        r->modes.len += 10;
                    }
                    if (want_misc) {
                        if (blob_reserve(&r->misc, 5) < 0) goto oom;
                        r->misc.len += misc_string(r->misc.data + r->misc.len, kind, st.attrs);
                    }
                    r->misc_off[n + 1] = (int32_t)r->misc.len;
                    if (job->nx) {
                        int64_t ctime_ns = st.c_s * 1000000000LL + st.c_ns;
                        if (trusted && st.ctime_known && st.dev == job->memo_dev &&
                                    ctime_ns < job->memo_before_ns
                                ? memo_xattrs(job, st.ino, n, &complete) < 0
                                : read_xattr(job, fd, &real, real_base, name, n, &complete) < 0)
                            goto oom;
                    }
                    r->n = n + 1;
                }
                if (kind == KIND_DIR &&
                    subdirs_add(&job->subs, rel, rel_len, name, name_len, (int32_t)i, row) < 0)
                    goto oom;
                if (r->n >= job->max_rows || r->path.len >= BLOB_LIMIT) {
                    job->consumed = i;
                    job->resume = d->d_off;
                    stop = 1;
                    break;
                }
            next:;
            }
            if (stop) break;
        }
        close(fd);
        if (job->memo) job->listed_ok[i] = (uint8_t)complete;
        if (stop) break;
    }
    goto out;
oom:
    rc = -1;
out:
    if (rootfd >= 0) close(rootfd);
    blob_free(&vis);
    blob_free(&real);
    blob_free(&dents);
    return rc;
}

/* ------------------------------------------------------------------ Python glue */

static int set_item_take(PyObject *dict, const char *key, void *data, Py_ssize_t size,
                         size_t cap) {
    PyObject *b = buffer_take(data, size, cap);
    if (b == NULL) return -1;
    int rc = PyDict_SetItemString(dict, key, b);
    Py_DECREF(b);
    return rc;
}

/* Moves the row columns into Buffers; the Rows struct no longer owns them afterwards. */
static PyObject *rows_to_dict(Rows *r) {
    PyObject *d = PyDict_New();
    if (d == NULL) return NULL;
    if (r->cap == 0 && rows_grow(r, 1) < 0) {  /* zero rows: still hand out valid offsets */
        Py_DECREF(d);
        return PyErr_NoMemory();
    }
    Py_ssize_t n = (Py_ssize_t)r->n;
    size_t c8 = ARR_BYTES(r->cap, 8, 0), c4 = ARR_BYTES(r->cap, 4, 0);
    size_t c1 = ARR_BYTES(r->cap, 1, 0), o4 = ARR_BYTES(r->cap, 4, 1);
#define TAKE(key, field, size, cap)                                   \
    do {                                                              \
        void *p_ = r->field;                                          \
        r->field = NULL;                                              \
        if (set_item_take(d, key, p_, (size), (cap)) < 0) goto fail;  \
    } while (0)
#define TAKE_BLOB(key, blob)                                          \
    do {                                                              \
        Blob b_ = r->blob;                                            \
        memset(&r->blob, 0, sizeof(Blob));                            \
        if (set_item_take(d, key, b_.data, (Py_ssize_t)b_.len, b_.cap) < 0) goto fail; \
    } while (0)
    for (int c = 0; c < NUM_COLS; c++) {
        if (r->want[c]) TAKE(col_names[c], num[c], n * 8, c8);
    }
    TAKE("dir", dir, n * 4, c4);
    TAKE("kind", kind, n, c1);
    TAKE("flags", flags, n, c1);
    TAKE("path_offsets", path_off, (n + 1) * 4, o4);
    TAKE("name_offsets", name_off, (n + 1) * 4, o4);
    TAKE("misc_offsets", misc_off, (n + 1) * 4, o4);
    TAKE_BLOB("paths", path);
    TAKE_BLOB("names", name);
    TAKE_BLOB("misc", misc);
    TAKE_BLOB("modes", modes);
    PyObject *xs = PyList_New(r->nx);
    if (xs == NULL) goto fail;
    if (PyDict_SetItemString(d, "xattrs", xs) < 0) {
        Py_DECREF(xs);
        goto fail;
    }
    Py_DECREF(xs);
    for (int k = 0; k < r->nx; k++) {
        Blob xb = r->x_blob[k];
        memset(&r->x_blob[k], 0, sizeof(Blob));
        PyObject *blob = buffer_take(xb.data, (Py_ssize_t)xb.len, xb.cap);
        PyObject *off = buffer_take(r->x_off[k], (n + 1) * 4, o4);
        r->x_off[k] = NULL;
        PyObject *valid = buffer_take(r->x_valid[k], n, c1);
        r->x_valid[k] = NULL;
        if (blob == NULL || off == NULL || valid == NULL) {
            Py_XDECREF(blob); Py_XDECREF(off); Py_XDECREF(valid);
            goto fail;
        }
        PyObject *t = PyTuple_Pack(3, blob, off, valid);
        Py_DECREF(blob); Py_DECREF(off); Py_DECREF(valid);
        if (t == NULL) goto fail;
        PyList_SET_ITEM(xs, k, t);
    }
#undef TAKE_BLOB
#undef TAKE
    return d;
fail:
    Py_DECREF(d);
    return NULL;
}

static PyObject *build_result(Job *job) {
    PyObject *cols = NULL, *subs = NULL, *errs = NULL;
    cols = rows_to_dict(&job->rows);
    if (cols == NULL) goto fail;
    subs = PyList_New((Py_ssize_t)job->subs.n);
    if (subs == NULL) goto fail;
    for (size_t s = 0; s < job->subs.n; s++) {
        PyObject *t = Py_BuildValue("(y#iL)", job->subs.rel.data + job->subs.off[s],
                                    (Py_ssize_t)(job->subs.off[s + 1] - job->subs.off[s]),
                                    (int)job->subs.parent[s], (long long)job->subs.row[s]);
        if (t == NULL) goto fail;
        PyList_SET_ITEM(subs, (Py_ssize_t)s, t);
    }
    errs = PyList_New((Py_ssize_t)job->errs.n);
    if (errs == NULL) goto fail;
    for (size_t e = 0; e < job->errs.n; e++) {
        char op[2] = {job->errs.op[e], 0};
        PyObject *t = Py_BuildValue("(y#is)", job->errs.paths.data + job->errs.off[e],
                                    (Py_ssize_t)(job->errs.off[e + 1] - job->errs.off[e]),
                                    job->errs.err[e], op);
        if (t == NULL) goto fail;
        PyList_SET_ITEM(errs, (Py_ssize_t)e, t);
    }
    PyObject *listed = Py_None;
    Py_INCREF(listed);
    if (job->memo) {
        Py_DECREF(listed);
        listed = Py_BuildValue("(y#y#)", (const char *)job->listed_ino,
                               job->ndirs * (Py_ssize_t)sizeof(int64_t),
                               (const char *)job->listed_ok, job->ndirs);
        if (listed == NULL) goto fail;
    }
    return Py_BuildValue("{s:n,s:N,s:N,s:N,s:n,s:L,s:(LLLLL),s:N,s:L}", "n",
                         (Py_ssize_t)job->rows.n, "columns", cols, "subdirs", subs, "errors",
                         errs, "consumed", job->consumed, "resume", (long long)job->resume,
                         "counts", (long long)job->n_files, (long long)job->n_dirs,
                         (long long)job->n_others, (long long)job->n_errors,
                         (long long)job->n_skipped, "listed", listed, "remembered",
                         (long long)job->n_remembered);
fail:
    Py_XDECREF(cols);
    Py_XDECREF(subs);
    Py_XDECREF(errs);
    return NULL;
}

static void job_free(Job *job) {
    rows_free(&job->rows);
    blob_free(&job->subs.rel);
    free(job->subs.off);
    free(job->subs.parent);
    free(job->subs.row);
    blob_free(&job->errs.paths);
    free(job->dirs);
    free(job->dir_lens);
    free(job->starts);
    free(job->hide_lo);
    free(job->hide_hi);
    free(job->hide_names);
    free(job->listed_ino);
    free(job->listed_ok);
}

PyDoc_STRVAR(list_dirs_doc,
"list_dirs(root, prefix, dirs, starts, hide, max_rows, flags, xattrs[, columns[, prefilter\n"
"          [, memo]]])\n"
"    -> dict\n\n"
"List the directories `dirs` (paths relative to `root`, b'' for root itself) and stat\n"
"every entry, with the GIL released. `starts` gives a directory offset to resume at (0 =\n"
"from the beginning), `hide` is None or, per directory, None or a tuple of names to leave\n"
"out. Rows are regular files, or every kind with flags & 1; names are collected with\n"
"flags & 2, MODE strings with flags & 4, MISC_ATTRIBUTES strings with flags & 8.\n"
"Paths are written as prefix + '/' + rel + '/' + name (none with flags & 16: every\n"
"row's path is then empty). Stops after `max_rows`\n"
"rows: 'consumed' directories were finished, and 'resume' (when not 0) is the offset to\n"
"continue directory number 'consumed' at. `columns` names the numeric columns to fill\n"
"(ino mode nlink uid gid size kb blksize dev rdev gen atime mtime ctime btime; None = all).\n"
"`prefilter` (None = every entry) is a sequence of conjunctions, each a sequence of\n"
"(column, op, value) with op one of = <> < <= > >=: an entry is a row only when every\n"
"comparison of at least one conjunction holds. Entries are counted and directories\n"
"descended into whether or not they are rows.\n"
"`memo` (None = read every xattr) is (before_ns, dev, dirs, [(inos, offsets, blob) per\n"
"xattr]) from an earlier scan: an entry on device `dev` whose change time is before\n"
"`before_ns`, in a directory whose inode is in the sorted int64 array `dirs`, takes its\n"
"xattrs from the memo (present where its inode is in the sorted int64 `inos`, the value\n"
"blob[offsets[j]:offsets[j + 1]]) instead of reading them ('remembered' counts those).\n"
"With a memo, 'listed' is (inodes, ok): per directory its inode (int64, -1 when it could\n"
"not be opened) and whether this call listed its part of it in full (uint8: every entry a\n"
"row, nothing hidden, no error, on `dev`).");

/* The memo argument, parsed into the job; its arrays stay buffer views in `views` (at most
 * 1 + 3 * MAX_XATTRS) while the job runs. Returns the number of views taken, or -(that + 1)
 * with an exception set. */
static int memo_parse(PyObject *memo, Job *job, Py_buffer *views) {
    PyObject *values;
    int nv = 0;
    long long before, dev;
    if (!PyTuple_Check(memo) || !PyArg_ParseTuple(memo, "LLy*O!", &before, &dev, &views[0],
                                                  &PyList_Type, &values)) {
        if (!PyErr_Occurred() || PyErr_ExceptionMatches(PyExc_TypeError)) {
            PyErr_Clear();
            PyErr_SetString(PyExc_TypeError,
                            "memo must be (before_ns, dev, dirs, [(inos, offsets, blob), ...])");
        }
        return -1;
    }
    nv = 1;
    job->memo = 1;
    job->memo_before_ns = before;
    job->memo_dev = dev;
    job->memo_dirs = views[0].buf;
    job->memo_ndirs = (size_t)views[0].len / sizeof(int64_t);
    if (PyList_GET_SIZE(values) != job->nx) {
        PyErr_SetString(PyExc_ValueError, "memo: one (inos, offsets, blob) per xattr");
        return -nv - 1;
    }
    for (int k = 0; k < job->nx; k++) {
        PyObject *t = PyList_GET_ITEM(values, k);
        Py_buffer *v = &views[nv];
        if (!PyTuple_Check(t) || !PyArg_ParseTuple(t, "y*y*y*", &v[0], &v[1], &v[2])) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "memo values: (inos, offsets, blob)");
            return -nv - 1;
        }
        nv += 3;
        size_t n = (size_t)v[0].len / sizeof(int64_t);
        if ((size_t)v[1].len != (n + 1) * sizeof(int32_t)) {
            PyErr_SetString(PyExc_ValueError, "memo values: offsets must be one longer than inos");
            return -nv - 1;
        }
        job->memo_inos[k] = v[0].buf;
        job->memo_n[k] = n;
        job->memo_off[k] = v[1].buf;
        job->memo_blob[k] = v[2].buf;
        job->memo_blob_len[k] = (size_t)v[2].len;
    }
    return nv;
}

static PyObject *list_dirs(PyObject *self, PyObject *args) {
    Py_buffer root, prefix;
    Py_buffer memo_views[1 + 3 * MAX_XATTRS];
    int memo_nviews = 0;
    PyObject *dirs, *starts, *hide, *xattrs, *columns = Py_None, *prefilter = Py_None;
    PyObject *memo = Py_None;
    Py_ssize_t max_rows;
    int flags;
    if (!PyArg_ParseTuple(args, "y*y*O!O!OniO!|OOO", &root, &prefix, &PyList_Type, &dirs,
                          &PyList_Type, &starts, &hide, &max_rows, &flags, &PyList_Type,
                          &xattrs, &columns, &prefilter, &memo))
        return NULL;
    Job job;
    memset(&job, 0, sizeof(job));
    PyObject *result = NULL;
    PyObject *root_copy = NULL, *prefix_copy = NULL;
    if (prefilter_parse(prefilter, &job.where) < 0) goto early;
    for (int c = 0; c < NUM_COLS; c++) job.rows.want[c] = columns == Py_None;
    if (columns != Py_None) {
        PyObject *seq = PySequence_Fast(columns, "columns must be a sequence of names");
        if (seq == NULL) goto early;
        for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
            PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
            const char *name = PyUnicode_Check(item) ? PyUnicode_AsUTF8(item) : NULL;
            int found = 0;
            for (int c = 0; name != NULL && c < NUM_COLS; c++) {
                if (strcmp(name, col_names[c]) == 0) {
                    job.rows.want[c] = 1;
                    found = 1;
                }
            }
            if (!found) {
                if (!PyErr_Occurred()) PyErr_Format(PyExc_ValueError, "unknown column %R", item);
                Py_DECREF(seq);
                goto early;
            }
        }
        Py_DECREF(seq);
    }
    Py_ssize_t nd = PyList_GET_SIZE(dirs);
    if (PyList_GET_SIZE(starts) != nd || (hide != Py_None && (!PyList_Check(hide) ||
                                                               PyList_GET_SIZE(hide) != nd))) {
        PyErr_SetString(PyExc_ValueError, "dirs, starts and hide must have the same length");
        goto done;
    }
    if (PyList_GET_SIZE(xattrs) > MAX_XATTRS) {
        PyErr_Format(PyExc_ValueError, "at most %d extended attributes", MAX_XATTRS);
        goto done;
    }
    /* NUL-terminated copies of root and prefix (prefix without a trailing '/'). */
    root_copy = PyBytes_FromStringAndSize(root.buf, root.len);
    size_t plen = (size_t)prefix.len;
    while (plen > 0 && ((const char *)prefix.buf)[plen - 1] == '/') plen--;
    prefix_copy = PyBytes_FromStringAndSize(prefix.buf, (Py_ssize_t)plen);
    if (root_copy == NULL || prefix_copy == NULL) goto done;
    job.root = PyBytes_AS_STRING(root_copy);
    job.root_len = (size_t)root.len;
    job.prefix = PyBytes_AS_STRING(prefix_copy);
    job.prefix_len = plen;
    job.ndirs = nd;
    job.max_rows = max_rows > 0 ? (size_t)max_rows : 1;
    job.flags = flags;
    job.dirs = calloc(nd ? nd : 1, sizeof(char *));
    job.dir_lens = calloc(nd ? nd : 1, sizeof(size_t));
    job.starts = calloc(nd ? nd : 1, sizeof(int64_t));
    if (!job.dirs || !job.dir_lens || !job.starts) {
        PyErr_NoMemory();
        goto done;
    }
    /* The list items are kept alive by `dirs` (which the caller must not mutate meanwhile). */
    for (Py_ssize_t i = 0; i < nd; i++) {
        PyObject *d = PyList_GET_ITEM(dirs, i);
        if (!PyBytes_Check(d)) {
            PyErr_SetString(PyExc_TypeError, "dirs must hold bytes");
            goto done;
        }
        job.dirs[i] = PyBytes_AS_STRING(d);
        job.dir_lens[i] = (size_t)PyBytes_GET_SIZE(d);
        job.starts[i] = PyLong_AsLongLong(PyList_GET_ITEM(starts, i));
        if (job.starts[i] == -1 && PyErr_Occurred()) goto done;
    }
    if (hide != Py_None) {
        Py_ssize_t total = 0;
        for (Py_ssize_t i = 0; i < nd; i++) {
            PyObject *h = PyList_GET_ITEM(hide, i);
            if (h != Py_None) {
                if (!PyTuple_Check(h)) {
                    PyErr_SetString(PyExc_TypeError, "hide items must be None or tuples");
                    goto done;
                }
                total += PyTuple_GET_SIZE(h);
            }
        }
        job.hide_lo = calloc(nd ? nd : 1, sizeof(Py_ssize_t));
        job.hide_hi = calloc(nd ? nd : 1, sizeof(Py_ssize_t));
        job.hide_names = calloc(total ? total : 1, sizeof(char *));
        if (!job.hide_lo || !job.hide_hi || !job.hide_names) {
            PyErr_NoMemory();
            goto done;
        }
        Py_ssize_t k = 0;
        for (Py_ssize_t i = 0; i < nd; i++) {
            PyObject *h = PyList_GET_ITEM(hide, i);
            job.hide_lo[i] = k;
            if (h != Py_None) {
                for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(h); j++) {
                    PyObject *nm = PyTuple_GET_ITEM(h, j);
                    if (!PyBytes_Check(nm)) {
                        PyErr_SetString(PyExc_TypeError, "hidden names must be bytes");
                        goto done;
                    }
                    job.hide_names[k++] = PyBytes_AS_STRING(nm);
                }
            }
            job.hide_hi[i] = k;
        }
    }
    job.nx = (int)PyList_GET_SIZE(xattrs);
    job.rows.nx = job.nx;
    for (int k = 0; k < job.nx; k++) {
        PyObject *x = PyList_GET_ITEM(xattrs, k);
        if (!PyBytes_Check(x)) {
            PyErr_SetString(PyExc_TypeError, "xattr names must be bytes");
            goto done;
        }
        job.xnames[k] = PyBytes_AS_STRING(x);
    }
    if (memo != Py_None) {
        memo_nviews = memo_parse(memo, &job, memo_views);
        if (memo_nviews < 0) {
            memo_nviews = -memo_nviews - 1;
            goto done;
        }
        job.listed_ino = malloc((nd ? nd : 1) * sizeof(int64_t));
        job.listed_ok = calloc(nd ? nd : 1, 1);
        if (!job.listed_ino || !job.listed_ok) {
            PyErr_NoMemory();
            goto done;
        }
        for (Py_ssize_t i = 0; i < nd; i++) job.listed_ino[i] = -1;
    }

    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = run_job(&job);
    Py_END_ALLOW_THREADS
    if (rc < 0) {
        PyErr_NoMemory();
        goto done;
    }
    result = build_result(&job);
done:
    job_free(&job);
    for (int v = 0; v < memo_nviews; v++) PyBuffer_Release(&memo_views[v]);
    Py_XDECREF(root_copy);
    Py_XDECREF(prefix_copy);
early:
    PyBuffer_Release(&root);
    PyBuffer_Release(&prefix);
    return result;
}

/* ------------------------------------------------------------------ escaping */

PyDoc_STRVAR(escape_doc,
"escape(data, offsets, keep, mode) -> (blob, offsets) or None\n\n"
"Escape a binary array given as its data and int32 offsets (n + 1 of them). `keep` is a\n"
"256-byte table, non-zero for bytes written as they are. mode 0: every other byte becomes\n"
"'%XX'; mode 1: '\\n' becomes '\\\\n' and any other byte not kept is preceded by '\\\\'.\n"
"Returns None when nothing needs escaping. Offsets are rebased to start at 0.");

static PyObject *escape(PyObject *self, PyObject *args) {
    Py_buffer data, offsets, keep;
    int mode;
    if (!PyArg_ParseTuple(args, "y*y*y*i", &data, &offsets, &keep, &mode)) return NULL;
    PyObject *result = NULL;
    if (keep.len != 256 || offsets.len % 4 != 0 || offsets.len < 4) {
        PyErr_SetString(PyExc_ValueError, "bad escape arguments");
        goto done;
    }
    const uint8_t *tbl = keep.buf;
    const int32_t *off = offsets.buf;
    Py_ssize_t n = offsets.len / 4 - 1;
    const uint8_t *src = data.buf;
    if (off[0] < 0 || off[n] < off[0] || (Py_ssize_t)off[n] > data.len) {
        PyErr_SetString(PyExc_ValueError, "offsets outside the data");
        goto done;
    }
    size_t extra = 0;
    for (int32_t p = off[0]; p < off[n]; p++)
        if (!tbl[src[p]]) extra += mode == 0 ? 2 : 1;
    if (extra == 0) {
        Py_INCREF(Py_None);
        result = Py_None;
        goto done;
    }
    size_t out_len = (size_t)(off[n] - off[0]) + extra;
    if (out_len > (size_t)INT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "escaped data too large for int32 offsets");
        goto done;
    }
    uint8_t *out = malloc(out_len ? out_len : 1);
    int32_t *noff = malloc((size_t)(n + 1) * 4);
    if (out == NULL || noff == NULL) {
        free(out);
        free(noff);
        PyErr_NoMemory();
        goto done;
    }
    static const char hex[] = "0123456789ABCDEF";
    size_t q = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        noff[i] = (int32_t)q;
        for (int32_t p = off[i]; p < off[i + 1]; p++) {
            uint8_t c = src[p];
            if (tbl[c]) {
                out[q++] = c;
            } else if (mode == 0) {
                out[q++] = '%';
                out[q++] = (uint8_t)hex[c >> 4];
                out[q++] = (uint8_t)hex[c & 15];
            } else {
                out[q++] = '\\';
                out[q++] = c == '\n' ? 'n' : c;
            }
        }
    }
    noff[n] = (int32_t)q;
    Py_END_ALLOW_THREADS
    PyObject *b = buffer_take(out, (Py_ssize_t)q, out_len ? out_len : 1);
    PyObject *o = buffer_take(noff, (n + 1) * 4, (size_t)(n + 1) * 4);
    if (b && o) result = PyTuple_Pack(2, b, o);
    Py_XDECREF(b);
    Py_XDECREF(o);
done:
    PyBuffer_Release(&data);
    PyBuffer_Release(&offsets);
    PyBuffer_Release(&keep);
    return result;
}

/* ------------------------------------------------------------------ file-list records */

static inline size_t put_u64(char *dst, uint64_t v) {
    char tmp[24];
    size_t k = 0;
    do {
        tmp[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t j = 0; j < k; j++) dst[j] = tmp[k - 1 - j];
    return k;
}

static inline size_t put_i64(char *dst, int64_t v) {
    if (v < 0) {
        dst[0] = '-';
        return 1 + put_u64(dst + 1, (uint64_t)0 - (uint64_t)v);
    }
    return put_u64(dst, (uint64_t)v);
}

/* Copies src[0:n] escaped per `tbl`/`mode` (see escape()); returns bytes written. */
static inline size_t put_escaped(uint8_t *dst, const uint8_t *src, size_t n, const uint8_t *tbl,
                                 int mode) {
    static const char hex[] = "0123456789ABCDEF";
    size_t q = 0;
    for (size_t p = 0; p < n; p++) {
        uint8_t c = src[p];
        if (tbl[c]) {
            dst[q++] = c;
        } else if (mode == 0) {
            dst[q++] = '%';
            dst[q++] = (uint8_t)hex[c >> 4];
            dst[q++] = (uint8_t)hex[c & 15];
        } else {
            dst[q++] = '\\';
            dst[q++] = c == '\n' ? 'n' : c;
        }
    }
    return q;
}

PyDoc_STRVAR(format_records_doc,
"format_records(inode, gen, snapid, path_data, path_offsets, show_data, show_offsets,\n"
"               show_valid, keep, mode) -> Buffer\n\n"
"File-list records 'INODE GEN SNAPID  SHOW -- PATH\\n' for n rows: inode and gen are int64\n"
"buffers, paths a binary array as data + int32 offsets (n + 1), show likewise or None\n"
"(show_valid: None or one byte per row, 0 = NULL, written as nothing). Paths and SHOW text\n"
"are escaped with `keep`/`mode` as in escape().");

static PyObject *format_records(PyObject *self, PyObject *args) {
    Py_buffer ino, gen, pdata, poff, keep;
    Py_buffer sdata = {0}, soff = {0}, svalid = {0};
    PyObject *sdata_o, *soff_o, *svalid_o;
    long long snapid;
    int mode;
    if (!PyArg_ParseTuple(args, "y*y*Ly*y*OOOy*i", &ino, &gen, &snapid, &pdata, &poff,
                          &sdata_o, &soff_o, &svalid_o, &keep, &mode))
        return NULL;
    PyObject *result = NULL;
    int have_show = sdata_o != Py_None, have_valid = svalid_o != Py_None;
    if (have_show && (PyObject_GetBuffer(sdata_o, &sdata, PyBUF_SIMPLE) < 0 ||
                      PyObject_GetBuffer(soff_o, &soff, PyBUF_SIMPLE) < 0))
        goto done;
    if (have_valid && PyObject_GetBuffer(svalid_o, &svalid, PyBUF_SIMPLE) < 0) goto done;
    Py_ssize_t n = ino.len / 8;
    if (gen.len / 8 != n || poff.len / 4 != n + 1 || keep.len != 256 ||
        (have_show && soff.len / 4 != n + 1) || (have_valid && svalid.len != n)) {
        PyErr_SetString(PyExc_ValueError, "format_records: inconsistent lengths");
        goto done;
    }
    const int64_t *vi = ino.buf, *vg = gen.buf;
    const int32_t *po = poff.buf, *so = have_show ? soff.buf : NULL;
    const uint8_t *pd = pdata.buf, *sd = have_show ? sdata.buf : NULL;
    const uint8_t *sv = have_valid ? svalid.buf : NULL;
    const uint8_t *tbl = keep.buf;
    if (po[0] < 0 || po[n] < po[0] || po[n] > pdata.len ||
        (have_show && (so[0] < 0 || so[n] < so[0] || so[n] > sdata.len))) {
        PyErr_SetString(PyExc_ValueError, "format_records: offsets outside the data");
        goto done;
    }
    size_t width = mode == 0 ? 3 : 2;
    /* worst case: 3 numbers (<= 20 digits + sign) + 2 + 2 + 4 + 1 separators */
    size_t cap = (size_t)n * 72 + width * (size_t)(po[n] - po[0]);
    if (have_show) cap += width * (size_t)(so[n] - so[0]);
    char *out = malloc(cap ? cap : 1);
    if (out == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    char snap[24];
    size_t snap_len = put_i64(snap, snapid);
    size_t q = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        q += put_i64(out + q, vi[i]);
        out[q++] = ' ';
        q += put_i64(out + q, vg[i]);
        out[q++] = ' ';
        memcpy(out + q, snap, snap_len);
        q += snap_len;
        out[q++] = ' ';
        out[q++] = ' ';
        if (have_show && (sv == NULL || sv[i]))
            q += put_escaped((uint8_t *)out + q, sd + so[i], (size_t)(so[i + 1] - so[i]), tbl, mode);
        memcpy(out + q, " -- ", 4);
        q += 4;
        q += put_escaped((uint8_t *)out + q, pd + po[i], (size_t)(po[i + 1] - po[i]), tbl, mode);
        out[q++] = '\n';
    }
    Py_END_ALLOW_THREADS
    result = buffer_take(out, (Py_ssize_t)q, cap ? cap : 1);
done:
    PyBuffer_Release(&ino);
    PyBuffer_Release(&gen);
    PyBuffer_Release(&pdata);
    PyBuffer_Release(&poff);
    PyBuffer_Release(&keep);
    if (sdata.obj) PyBuffer_Release(&sdata);
    if (soff.obj) PyBuffer_Release(&soff);
    if (svalid.obj) PyBuffer_Release(&svalid);
    return result;
}

/* ------------------------------------------------------------------ listings ahead */

/* For gpfskit.clib's walk: `list_ahead(path, hide)` queues one directory for a worker
 * thread of this module, which lists it and stats every entry without ever taking the GIL;
 * the returned Pending's `result(stat_type)` waits for it and builds the Python objects.
 * So a walk's caller works on one directory while the next ones are listed, and the worker
 * does not compete for the GIL. A caller that would wait lists the oldest queued directory
 * itself instead (GIL released), so that its core is not idle either. */

typedef struct AheadJob {
    struct AheadJob *next;
    char *path;
    char **hide;
    int nhide;
    int done, abandoned;
    int waiters;   /* threads blocked in result() on this job: only they need waking */
    int err;
    char op;
    size_t n, cap;
    Blob names;
    int32_t *name_off;
    uint8_t *kind;
    struct gpk_stat *st;
} AheadJob;

static pthread_mutex_t ahead_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ahead_queued = PTHREAD_COND_INITIALIZER;
static pthread_cond_t ahead_finished = PTHREAD_COND_INITIALIZER;
/* One listing thread, and the callers that would otherwise wait: measured on a 2-core
 * machine with a caller doing a path join and a stat-lite per entry, a second listing thread
 * only took the caller's core from it (1 M entries: 3.9-4.6 s, against 2.7-3.4 s). Callers
 * that list take a slot after the threads' in ahead_current. */
#define AHEAD_THREADS 1
#define AHEAD_SLOTS (AHEAD_THREADS + 8)
static AheadJob *ahead_head, *ahead_tail, *ahead_current[AHEAD_SLOTS];
static int ahead_running;

/* fork: the child has no worker thread; the next list_ahead starts one, which lists again
 * the jobs that were being listed (by the worker or by waiting callers) when the parent
 * forked. */
static void ahead_prefork(void) { pthread_mutex_lock(&ahead_mu); }
static void ahead_postfork_parent(void) { pthread_mutex_unlock(&ahead_mu); }
static void ahead_postfork_child(void) {
    pthread_mutex_init(&ahead_mu, NULL);
    pthread_cond_init(&ahead_queued, NULL);
    pthread_cond_init(&ahead_finished, NULL);
    ahead_running = 0;
    for (int t = 0; t < AHEAD_SLOTS; t++) {
        AheadJob *j = ahead_current[t];
        ahead_current[t] = NULL;
        if (j != NULL) {   /* its buffers may be mid-realloc: start new ones (the old leak) */
            j->n = 0;
            j->cap = 0;
            j->name_off = NULL;
            j->kind = NULL;
            j->st = NULL;
            memset(&j->names, 0, sizeof(j->names));
            j->err = 0;
            j->next = ahead_head;
            ahead_head = j;
            if (ahead_tail == NULL) ahead_tail = j;
        }
    }
}

static void ahead_free(AheadJob *j) {
    if (j == NULL) return;
    free(j->path);
    for (int h = 0; h < j->nhide; h++) free(j->hide[h]);
    free(j->hide);
    blob_free(&j->names);
    free(j->name_off);
    free(j->kind);
    free(j->st);
    free(j);
}

static int ahead_grow(AheadJob *j) {
    size_t cap = j->cap ? j->cap * 2 : 64;
    int32_t *o = realloc(j->name_off, (cap + 1) * sizeof(int32_t));
    if (o == NULL) return -1;
    j->name_off = o;
    uint8_t *k = realloc(j->kind, cap);
    if (k == NULL) return -1;
    j->kind = k;
    struct gpk_stat *s = realloc(j->st, cap * sizeof(struct gpk_stat));
    if (s == NULL) return -1;
    j->st = s;
    if (j->cap == 0) j->name_off[0] = 0;
    j->cap = cap;
    return 0;
}

/* Lists one directory as list_dirs does for a single root (every kind, '.'/'..' and the
 * hidden names left out, entries that vanish before their stat skipped). Without the GIL. */
static void ahead_list(AheadJob *j) {
    int fd = open(j->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOATIME);
    if (fd < 0 && errno == EPERM) fd = open(j->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        j->err = errno;
        j->op = 'o';
        return;
    }
    char *dents = malloc(DENTS_BUF);
    if (dents == NULL) {
        j->err = ENOMEM;
        j->op = 'm';
        close(fd);
        return;
    }
    for (;;) {
        long nread = syscall(SYS_getdents64, fd, dents, DENTS_BUF);
        if (nread < 0) {
            j->err = errno;
            j->op = 'r';
            break;
        }
        if (nread == 0) break;
        for (long pos = 0; pos < nread;) {
            struct linux_dirent64 *d = (struct linux_dirent64 *)(dents + pos);
            pos += d->d_reclen;
            const char *name = d->d_name;
            if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0))) continue;
            int hidden = 0;
            for (int h = 0; h < j->nhide && !hidden; h++) hidden = strcmp(name, j->hide[h]) == 0;
            if (hidden) continue;
            if (j->n >= j->cap && ahead_grow(j) < 0) goto oom;
            if (do_stat(fd, name, &j->st[j->n]) != 0) continue;
            size_t len = strlen(name);
            if (blob_append(&j->names, name, len) < 0) goto oom;
            j->kind[j->n] = (uint8_t)kind_of_mode(j->st[j->n].mode);
            j->n++;
            j->name_off[j->n] = (int32_t)j->names.len;
        }
    }
    free(dents);
    close(fd);
    return;
oom:
    j->err = ENOMEM;
    j->op = 'm';
    free(dents);
    close(fd);
}

/* The oldest queued job, taken off the queue; NULL when none. Under ahead_mu. */
static AheadJob *ahead_pop(void) {
    AheadJob *j = ahead_head;
    if (j != NULL) {
        ahead_head = j->next;
        if (ahead_head == NULL) ahead_tail = NULL;
    }
    return j;
}

/* List job j in ahead_current[slot]; called and returning under ahead_mu. */
static void ahead_run(AheadJob *j, int slot) {
    int skip = j->abandoned;
    ahead_current[slot] = j;
    pthread_mutex_unlock(&ahead_mu);
    if (!skip) ahead_list(j);
    pthread_mutex_lock(&ahead_mu);
    ahead_current[slot] = NULL;
    j->done = 1;
    if (j->abandoned) ahead_free(j);
    else if (j->waiters) pthread_cond_broadcast(&ahead_finished);
}

static void *ahead_worker(void *arg) {
    int slot = (int)(intptr_t)arg;  /* this thread's place in ahead_current */
    pthread_mutex_lock(&ahead_mu);
    for (;;) {
        AheadJob *j;
        while ((j = ahead_pop()) == NULL) pthread_cond_wait(&ahead_queued, &ahead_mu);
        ahead_run(j, slot);
    }
    return NULL;
}

/* Until job j is done (under ahead_mu): list queued jobs on this thread while there are
 * any and a slot is free, else wait for a worker to finish one. */
static void ahead_wait(AheadJob *j) {
    while (!j->done) {
        int slot = AHEAD_THREADS;
        while (slot < AHEAD_SLOTS && ahead_current[slot] != NULL) slot++;
        AheadJob *queued = slot < AHEAD_SLOTS ? ahead_pop() : NULL;
        if (queued != NULL) {
            ahead_run(queued, slot);
            continue;
        }
        j->waiters++;
        pthread_cond_wait(&ahead_finished, &ahead_mu);
        j->waiters--;
    }
}

typedef struct {
    PyObject_HEAD
    AheadJob *job;
} PendingObject;

static void Pending_dealloc(PendingObject *self) {
    AheadJob *j = self->job;
    if (j != NULL) {
        pthread_mutex_lock(&ahead_mu);
        int done = j->done;
        if (!done) j->abandoned = 1;   /* the worker frees it */
        pthread_mutex_unlock(&ahead_mu);
        if (done) ahead_free(j);
    }
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* The 13 stat_result fields of one entry, as gpfskit.clib.listing builds them from
 * list_dirs' columns: times truncated from float64 seconds, st_blocks twice KB_ALLOCATED. */
static void stat_fields(const struct gpk_stat *st, long long v[13]) {
    int64_t iv[FIRST_DOUBLE];
    double dv[4];
    entry_values(st, iv, dv);
    long long f[13] = {iv[C_MODE], iv[C_INO], iv[C_DEV], iv[C_NLINK], iv[C_UID], iv[C_GID],
                       iv[C_SIZE], (long long)dv[0], (long long)dv[1], (long long)dv[2],
                       iv[C_RDEV], iv[C_BLKSIZE], iv[C_KB] * 2};
    memcpy(v, f, sizeof(f));
}

/* Entries of one directory mostly share their device, owner, mode, block size and often
 * their times: an int equal to the one made last for the same field (or another time
 * field) is shared instead of made again. */
typedef struct {
    long long v[13];
    PyObject *o[13];
} FieldCache;

static PyObject *field_int(FieldCache *c, int k, long long v) {
    if (c->o[k] != NULL && c->v[k] == v) {
        Py_INCREF(c->o[k]);
        return c->o[k];
    }
    if (k >= 8 && k <= 9 && c->o[k - 1] != NULL && c->v[k - 1] == v) {  /* mtime, ctime */
        Py_INCREF(c->o[k - 1]);
        return c->o[k - 1];
    }
    PyObject *x = PyLong_FromLongLong(v);
    if (x == NULL) return NULL;
    Py_XDECREF(c->o[k]);
    Py_INCREF(x);
    c->o[k] = x;
    c->v[k] = v;
    return x;
}

static PyObject *stat_record(PyTypeObject *type, FieldCache *cache, const struct gpk_stat *st) {
    PyObject *t = type->tp_alloc(type, 13);
    if (t == NULL) return NULL;
    long long v[13];
    stat_fields(st, v);
    for (int k = 0; k < 13; k++) {
        PyObject *x = field_int(cache, k, v[k]);
        if (x == NULL) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, k, x);
    }
    return t;
}

PyDoc_STRVAR(Pending_result_doc,
"result(stat_type, prefix) -> (names, kinds, stats, paths, dirs, others)\n\n"
"Wait for the listing (GIL released) and return, in listing order: the entry names (str,\n"
"os.fsdecode'd), their kinds as bytes (0 file, 1 directory, 2 symbolic link, 3 other), one\n"
"stat_type (a tuple subclass with 13 fields) per entry, a dict from prefix + name to that\n"
"record, and the names split into directories and everything else. Raises OSError when the\n"
"directory could not be opened or read. Once only.");

static PyObject *Pending_result(PendingObject *self, PyObject *args) {
    PyTypeObject *type;
    const char *prefix;
    Py_ssize_t prefix_len;
    if (!PyArg_ParseTuple(args, "O!y#", &PyType_Type, &type, &prefix, &prefix_len))
        return NULL;
    if (!PyType_IsSubtype(type, &PyTuple_Type) || type->tp_basicsize != PyTuple_Type.tp_basicsize) {
        PyErr_SetString(PyExc_TypeError, "stat_type must be a plain tuple subclass");
        return NULL;
    }
    AheadJob *j = self->job;
    if (j == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "the result was already taken");
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    pthread_mutex_lock(&ahead_mu);
    ahead_wait(j);
    pthread_mutex_unlock(&ahead_mu);
    Py_END_ALLOW_THREADS
    self->job = NULL;
    PyObject *names = NULL, *kinds = NULL, *stats = NULL, *paths = NULL, *dirs = NULL,
             *others = NULL, *result = NULL;
    FieldCache cache;
    memset(&cache, 0, sizeof(cache));
    Blob key = {0};
    if (j->err) {
        if (j->op == 'm') PyErr_NoMemory();
        else {
            PyObject *path = PyUnicode_DecodeFSDefault(j->path);
            PyObject *e = path ? Py_BuildValue("(isO)", j->err, strerror(j->err), path) : NULL;
            if (e != NULL) PyErr_SetObject(PyExc_OSError, e);
            Py_XDECREF(e);
            Py_XDECREF(path);
        }
        goto done;
    }
    Py_ssize_t n = (Py_ssize_t)j->n;
    names = PyList_New(n);
    stats = PyList_New(n);
    kinds = PyBytes_FromStringAndSize(n ? (const char *)j->kind : "", n);
    paths = PyDict_New();
    dirs = PyList_New(0);
    others = PyList_New(0);
    if (!names || !stats || !kinds || !paths || !dirs || !others) goto done;
    if (blob_append(&key, prefix, (size_t)prefix_len) < 0) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        const char *nm = j->names.data + j->name_off[i];
        Py_ssize_t len = j->name_off[i + 1] - j->name_off[i];
        PyObject *name = PyUnicode_DecodeFSDefaultAndSize(nm, len);
        if (name == NULL) goto done;
        PyList_SET_ITEM(names, i, name);
        if (PyList_Append(j->kind[i] == KIND_DIR ? dirs : others, name) < 0) goto done;
        PyObject *st = stat_record(type, &cache, &j->st[i]);
        if (st == NULL) goto done;
        PyList_SET_ITEM(stats, i, st);
        key.len = (size_t)prefix_len;
        if (blob_append(&key, nm, (size_t)len) < 0) {
            PyErr_NoMemory();
            goto done;
        }
        PyObject *k = PyUnicode_DecodeFSDefaultAndSize(key.data, (Py_ssize_t)key.len);
        if (k == NULL) goto done;
        int rc = PyDict_SetItem(paths, k, st);
        Py_DECREF(k);
        if (rc < 0) goto done;
    }
    result = PyTuple_Pack(6, names, kinds, stats, paths, dirs, others);
done:
    for (int k = 0; k < 13; k++) Py_XDECREF(cache.o[k]);
    blob_free(&key);
    Py_XDECREF(names);
    Py_XDECREF(kinds);
    Py_XDECREF(stats);
    Py_XDECREF(paths);
    Py_XDECREF(dirs);
    Py_XDECREF(others);
    ahead_free(j);
    return result;
}

static PyMethodDef Pending_methods[] = {
    {"result", (PyCFunction)Pending_result, METH_VARARGS, Pending_result_doc},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject PendingType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "gpfskit.emulator.scan._walk.Pending",
    .tp_basicsize = sizeof(PendingObject),
    .tp_dealloc = (destructor)Pending_dealloc,
    .tp_methods = Pending_methods,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A directory listing queued by list_ahead.",
};

PyDoc_STRVAR(list_ahead_doc,
"list_ahead(path, hide) -> Pending\n\n"
"Queue directory `path` (bytes) for this module's listing thread, leaving out '.', '..'\n"
"and the names in `hide` (a tuple of bytes). Directories are listed in the order queued.");

static PyObject *list_ahead(PyObject *self, PyObject *args) {
    const char *path;
    PyObject *hide;
    if (!PyArg_ParseTuple(args, "yO!", &path, &PyTuple_Type, &hide)) return NULL;
    AheadJob *j = calloc(1, sizeof(AheadJob));
    if (j == NULL) return PyErr_NoMemory();
    j->path = strdup(path);
    j->nhide = (int)PyTuple_GET_SIZE(hide);
    j->hide = calloc(j->nhide ? j->nhide : 1, sizeof(char *));
    if (j->path == NULL || j->hide == NULL) {
        ahead_free(j);
        return PyErr_NoMemory();
    }
    for (int h = 0; h < j->nhide; h++) {
        PyObject *nm = PyTuple_GET_ITEM(hide, h);
        if (!PyBytes_Check(nm)) {
            ahead_free(j);
            PyErr_SetString(PyExc_TypeError, "hidden names must be bytes");
            return NULL;
        }
        j->hide[h] = strdup(PyBytes_AS_STRING(nm));
        if (j->hide[h] == NULL) {
            ahead_free(j);
            return PyErr_NoMemory();
        }
    }
    PendingObject *p = PyObject_New(PendingObject, &PendingType);
    if (p == NULL) {
        ahead_free(j);
        return NULL;
    }
    p->job = j;
    pthread_mutex_lock(&ahead_mu);
    while (ahead_running < AHEAD_THREADS) {
        pthread_t tid;
        if (pthread_create(&tid, NULL, ahead_worker, (void *)(intptr_t)ahead_running) != 0) {
            if (ahead_running) break;  /* one thread is enough to go on */
            pthread_mutex_unlock(&ahead_mu);
            p->job = NULL;
            Py_DECREF(p);
            ahead_free(j);
            return PyErr_SetFromErrno(PyExc_OSError);
        }
        pthread_detach(tid);
        ahead_running++;
    }
    if (ahead_tail) ahead_tail->next = j;
    else ahead_head = j;
    ahead_tail = j;
    pthread_cond_signal(&ahead_queued);
    pthread_mutex_unlock(&ahead_mu);
    return (PyObject *)p;
}

/* ------------------------------------------------------------------ records from columns */

/* For gpfskit.clib's inode scan. A Records object is a cursor over equally long int64 /
 * float64 columns (numpy arrays, held while anything reads them; a 0-d array is a constant,
 * as numpy broadcasts it). What it hands out are Rows: small objects that name their row
 * and make a field's value when it is read (through the Field descriptors of the Row
 * subclass, iattr), as the original's iattr reads its gpfs_iattr64_t. So next_inode costs
 * one C call, and a row the caller has let go is reused for the next one. With a `stop`
 * column, next(term) returns None, staying put, at the first row whose value there is at
 * least a nonzero term (gpfs_next_inode's termIno). A Row can also be made from its values,
 * as a tuple is (what the real-cluster binding does). */

#define MAX_FIELDS 64
#define SPARE 4

typedef struct {  /* the columns, shared by a Records and the rows it hands out */
    PyObject_HEAD
    int nf;
    Py_ssize_t n;                 /* rows: the columns' length, or the order's */
    Py_buffer col[MAX_FIELDS];
    Py_ssize_t step[MAX_FIELDS];  /* 1, or 0 for a 0-d array: a constant */
    int is_float[MAX_FIELDS];
    Py_buffer order;              /* row i is at order[i] in the columns (order.obj: given) */
} ColumnsObject;

static void Columns_dealloc(ColumnsObject *self) {
    for (int k = 0; k < self->nf; k++) PyBuffer_Release(&self->col[k]);
    if (self->order.obj != NULL) PyBuffer_Release(&self->order);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyTypeObject ColumnsType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "gpfskit.emulator.scan._walk._Columns",
    .tp_basicsize = sizeof(ColumnsObject),
    .tp_dealloc = (destructor)Columns_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
};

static int int64_buffer(PyObject *array, Py_buffer *b, const char *what) {
    if (PyObject_GetBuffer(array, b, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) return -1;
    const char *f = b->format ? b->format : "B";
    if (*f == '<' || *f == '=' || *f == '@') f++;
    if ((strcmp(f, "q") == 0 || strcmp(f, "l") == 0) && b->itemsize == 8) return 0;
    if (strcmp(f, "d") == 0) return 1;
    PyErr_Format(PyExc_TypeError, "%s is not int64 or float64", what);
    PyBuffer_Release(b);
    return -1;
}

/* The columns of a sequence of arrays, checked: int64 or float64, C-contiguous, 0-d or
 * all of one length; with an order (None: none), int64 row numbers within that length. */
static ColumnsObject *columns_of(PyObject *columns, PyObject *order) {
    PyObject *seq = PySequence_Fast(columns, "columns must be a sequence");
    if (seq == NULL) return NULL;
    Py_ssize_t nf = PySequence_Fast_GET_SIZE(seq);
    if (nf < 1 || nf > MAX_FIELDS) {
        Py_DECREF(seq);
        PyErr_Format(PyExc_ValueError, "between 1 and %d columns", MAX_FIELDS);
        return NULL;
    }
    ColumnsObject *self = PyObject_New(ColumnsObject, &ColumnsType);
    if (self == NULL) {
        Py_DECREF(seq);
        return NULL;
    }
    self->nf = 0;
    self->n = -1;
    self->order.obj = NULL;
    for (Py_ssize_t k = 0; k < nf; k++) {
        Py_buffer *b = &self->col[k];
        char what[32];
        snprintf(what, sizeof(what), "column %zd", k);
        int is_float = int64_buffer(PySequence_Fast_GET_ITEM(seq, k), b, what);
        if (is_float < 0) goto fail;
        self->nf = (int)k + 1;
        self->is_float[k] = is_float;
        self->step[k] = b->ndim != 0;
        if (!self->step[k]) continue;
        Py_ssize_t len = b->len / 8;
        if (self->n < 0) self->n = len;
        else if (len != self->n) {
            PyErr_SetString(PyExc_ValueError, "columns differ in length");
            goto fail;
        }
    }
    if (self->n < 0) self->n = 1;  /* constants only: one row */
    if (order != Py_None) {
        Py_buffer *b = &self->order;
        int is_float = int64_buffer(order, b, "order");
        if (is_float != 0) {
            if (is_float > 0) {
                PyBuffer_Release(b);
                PyErr_SetString(PyExc_TypeError, "order is not int64");
            }
            b->obj = NULL;
            goto fail;
        }
        const int64_t *o = b->buf;
        Py_ssize_t n = b->len / 8;
        for (Py_ssize_t i = 0; i < n; i++)
            if (o[i] < 0 || o[i] >= self->n) {
                PyErr_Format(PyExc_ValueError, "order names row %lld of %zd", (long long)o[i],
                             self->n);
                goto fail;
            }
        self->n = n;
    }
    Py_DECREF(seq);
    return self;
fail:
    Py_DECREF(seq);
    Py_DECREF(self);
    return NULL;
}

/* Where row i is in the columns. */
static inline Py_ssize_t column_row(ColumnsObject *c, Py_ssize_t i) {
    return c->order.obj ? (Py_ssize_t)((const int64_t *)c->order.buf)[i] : i;
}

static PyObject *column_value(ColumnsObject *c, int k, Py_ssize_t i) {
    uint64_t bits = ((const uint64_t *)c->col[k].buf)[column_row(c, i) * c->step[k]];
    if (c->is_float[k]) {
        double v;
        memcpy(&v, &bits, sizeof(v));
        return PyFloat_FromDouble(v);
    }
    return PyLong_FromLongLong((long long)(int64_t)bits);
}

typedef struct {
    PyObject_HEAD
    ColumnsObject *cols;  /* the columns it reads, or NULL: made from values */
    Py_ssize_t i;         /* its row there */
    PyObject *values;     /* the tuple it was made from */
} RowObject;

static PyTypeObject RowType;

static void Row_dealloc(RowObject *self) {
    Py_XDECREF(self->cols);
    Py_XDECREF(self->values);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static Py_ssize_t Row_len(RowObject *self) {
    return self->cols ? self->cols->nf : PyTuple_GET_SIZE(self->values);
}

/* Field k (0 <= k < len) as a new reference. */
static PyObject *row_field(RowObject *self, Py_ssize_t k) {
    if (self->cols == NULL) return Py_NewRef(PyTuple_GET_ITEM(self->values, k));
    return column_value(self->cols, (int)k, self->i);
}

static PyObject *Row_item(RowObject *self, Py_ssize_t k) {
    if (k < 0 || k >= Row_len(self)) {
        PyErr_SetString(PyExc_IndexError, "record index out of range");
        return NULL;
    }
    return row_field(self, k);
}

/* Every field, as a tuple. */
static PyObject *row_values(RowObject *self) {
    if (self->cols == NULL) return Py_NewRef(self->values);
    Py_ssize_t n = Row_len(self);
    PyObject *t = PyTuple_New(n);
    if (t == NULL) return NULL;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *x = row_field(self, k);
        if (x == NULL) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, k, x);
    }
    return t;
}

/* The values of a Row made as a named tuple is: by position, then by field name. */
static PyObject *row_arguments(PyTypeObject *cls, PyObject *args, PyObject *kwds) {
    PyObject *fields = PyObject_GetAttrString((PyObject *)cls, "_fields");
    if (fields == NULL) return NULL;
    PyObject *names = PySequence_Tuple(fields);
    Py_DECREF(fields);
    if (names == NULL) return NULL;
    Py_ssize_t want = PyTuple_GET_SIZE(names), given = PyTuple_GET_SIZE(args);
    Py_ssize_t named = kwds ? PyDict_GET_SIZE(kwds) : 0;
    PyObject *values = NULL;
    if (given + named != want || given > want) {
        PyErr_Format(PyExc_TypeError, "%s() takes %zd values (%zd given)", cls->tp_name, want,
                     given + named);
        goto done;
    }
    if (named == 0) {
        values = Py_NewRef(args);
        goto done;
    }
    values = PyTuple_New(want);
    if (values == NULL) goto done;
    for (Py_ssize_t k = 0; k < want; k++) {
        PyObject *x = k < given ? PyTuple_GET_ITEM(args, k)
                                : PyDict_GetItemWithError(kwds, PyTuple_GET_ITEM(names, k));
        if (x == NULL) {
            if (!PyErr_Occurred())
                PyErr_Format(PyExc_TypeError, "%s() is missing %R (or was given another name)",
                             cls->tp_name, PyTuple_GET_ITEM(names, k));
            Py_CLEAR(values);
            goto done;
        }
        PyTuple_SET_ITEM(values, k, Py_NewRef(x));
    }
done:
    Py_DECREF(names);
    return values;
}

static PyObject *Row_new(PyTypeObject *cls, PyObject *args, PyObject *kwds) {
    PyObject *values = row_arguments(cls, args, kwds);
    if (values == NULL) return NULL;
    RowObject *self = (RowObject *)cls->tp_alloc(cls, 0);
    if (self == NULL) {
        Py_DECREF(values);
        return NULL;
    }
    self->cols = NULL;
    self->i = 0;
    self->values = values;
    return (PyObject *)self;
}

static PyObject *Row_iter(RowObject *self) {
    PyObject *t = row_values(self);
    if (t == NULL) return NULL;
    PyObject *it = PyObject_GetIter(t);
    Py_DECREF(t);
    return it;
}

static PyObject *Row_subscript(RowObject *self, PyObject *key) {
    if (PyIndex_Check(key)) {
        Py_ssize_t k = PyNumber_AsSsize_t(key, PyExc_IndexError);
        if (k == -1 && PyErr_Occurred()) return NULL;
        return Row_item(self, k < 0 ? k + Row_len(self) : k);
    }
    PyObject *t = row_values(self);
    if (t == NULL) return NULL;
    PyObject *r = PyObject_GetItem(t, key);
    Py_DECREF(t);
    return r;
}

/* Compared and hashed as the tuple of its values (as a named tuple is). */
static PyObject *Row_richcompare(PyObject *a, PyObject *b, int op) {
    PyObject *ta = PyObject_TypeCheck(a, &RowType) ? row_values((RowObject *)a)
                   : PyTuple_Check(a) ? Py_NewRef(a) : NULL;
    if (ta == NULL) {
        if (PyErr_Occurred()) return NULL;
        Py_RETURN_NOTIMPLEMENTED;
    }
    PyObject *tb = PyObject_TypeCheck(b, &RowType) ? row_values((RowObject *)b)
                   : PyTuple_Check(b) ? Py_NewRef(b) : NULL;
    if (tb == NULL) {
        Py_DECREF(ta);
        if (PyErr_Occurred()) return NULL;
        Py_RETURN_NOTIMPLEMENTED;
    }
    PyObject *r = PyObject_RichCompare(ta, tb, op);
    Py_DECREF(ta);
    Py_DECREF(tb);
    return r;
}

static Py_hash_t Row_hash(RowObject *self) {
    PyObject *t = row_values(self);
    if (t == NULL) return -1;
    Py_hash_t h = PyObject_Hash(t);
    Py_DECREF(t);
    return h;
}

static PyObject *Row_reduce(RowObject *self, PyObject *unused) {
    (void)unused;
    PyObject *t = row_values(self);
    if (t == NULL) return NULL;
    return Py_BuildValue("(ON)", (PyObject *)Py_TYPE(self), t);
}

static PyMethodDef Row_methods[] = {
    {"__reduce__", (PyCFunction)Row_reduce, METH_NOARGS, "made again from its values"},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods Row_as_sequence = {
    .sq_length = (lenfunc)Row_len,
    .sq_item = (ssizeargfunc)Row_item,
};

static PyMappingMethods Row_as_mapping = {
    .mp_length = (lenfunc)Row_len,
    .mp_subscript = (binaryfunc)Row_subscript,
};

static PyTypeObject RowType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "gpfskit.emulator.scan._walk.Row",
    .tp_basicsize = sizeof(RowObject),
    .tp_dealloc = (destructor)Row_dealloc,
    .tp_as_sequence = &Row_as_sequence,
    .tp_as_mapping = &Row_as_mapping,
    .tp_hash = (hashfunc)Row_hash,
    .tp_richcompare = Row_richcompare,
    .tp_iter = (getiterfunc)Row_iter,
    .tp_methods = Row_methods,
    .tp_new = Row_new,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "Row(*values): a record whose fields are Field descriptors of its subclass (which\n"
              "names them in _fields); it indexes, iterates, compares and hashes as the tuple\n"
              "of its values. Records hands out rows that read their values from columns.",
};

typedef struct {
    PyObject_HEAD
    Py_ssize_t k;
    PyObject *name;
} FieldObject;

static void Field_dealloc(FieldObject *self) {
    Py_XDECREF(self->name);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *Field_new(PyTypeObject *cls, PyObject *args, PyObject *kwds) {
    Py_ssize_t k;
    PyObject *name;
    static char *kwlist[] = {"index", "name", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "nU", kwlist, &k, &name)) return NULL;
    if (k < 0 || k >= MAX_FIELDS) {
        PyErr_Format(PyExc_ValueError, "a field index is 0 to %d", MAX_FIELDS - 1);
        return NULL;
    }
    FieldObject *self = (FieldObject *)cls->tp_alloc(cls, 0);
    if (self == NULL) return NULL;
    self->k = k;
    self->name = Py_NewRef(name);
    return (PyObject *)self;
}

static PyObject *Field_get(FieldObject *self, PyObject *row, PyObject *type) {
    (void)type;
    if (row == NULL || row == Py_None) return Py_NewRef(self);
    if (!PyObject_TypeCheck(row, &RowType)) {
        PyErr_Format(PyExc_TypeError, "field %U reads a Row, not %.100s", self->name,
                     Py_TYPE(row)->tp_name);
        return NULL;
    }
    return Row_item((RowObject *)row, self->k);
}

static int Field_set(FieldObject *self, PyObject *row, PyObject *value) {
    (void)row;
    (void)value;
    PyErr_Format(PyExc_AttributeError, "field %U is read-only", self->name);
    return -1;
}

static PyObject *Field_repr(FieldObject *self) {
    return PyUnicode_FromFormat("<field %U (%zd)>", self->name, self->k);
}

static PyTypeObject FieldType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "gpfskit.emulator.scan._walk.Field",
    .tp_basicsize = sizeof(FieldObject),
    .tp_dealloc = (destructor)Field_dealloc,
    .tp_repr = (reprfunc)Field_repr,
    .tp_descr_get = (descrgetfunc)Field_get,
    .tp_descr_set = (descrsetfunc)Field_set,
    .tp_new = Field_new,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Field(index, name): the descriptor of a Row's field number `index`.",
};

typedef struct {
    PyObject_HEAD
    ColumnsObject *cols;
    PyTypeObject *type;           /* a Row subclass */
    int stop;
    Py_ssize_t pos;
    PyObject *spare[SPARE];       /* rows handed out lately: reused once let go */
    int spare_next;
} RecordsObject;

static void Records_dealloc(RecordsObject *self) {
    for (int s = 0; s < SPARE; s++) Py_XDECREF(self->spare[s]);
    Py_XDECREF(self->cols);
    Py_XDECREF(self->type);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *record_at(RecordsObject *self, Py_ssize_t i) {
    /* A row handed out lately that only we still hold is moved to row i rather than a new
     * one made (as zip() reuses its result tuple), kept for a few rows so that `for ia in
     * scan`, whose loop variable holds the last one, gains too. No one else can see it. */
    for (int s = 0; s < SPARE; s++) {
        PyObject *r = self->spare[s];
        if (r != NULL && Py_REFCNT(r) == 1) {
            ((RowObject *)r)->i = i;
            return Py_NewRef(r);
        }
    }
    RowObject *r = (RowObject *)self->type->tp_alloc(self->type, 0);
    if (r == NULL) return NULL;
    r->cols = (ColumnsObject *)Py_NewRef(self->cols);
    r->i = i;
    r->values = NULL;
    /* It holds only the columns, which hold no Python object that could lead back: no
     * cycle, so the cyclic GC need not track it. A script that keeps a million rows then
     * does not make every collection walk them. */
    if (PyObject_IS_GC((PyObject *)r)) PyObject_GC_UnTrack(r);
    Py_XSETREF(self->spare[self->spare_next], Py_NewRef(r));
    self->spare_next = (self->spare_next + 1) % SPARE;
    return (PyObject *)r;
}

static PyObject *Records_next(RecordsObject *self, PyObject *const *args, Py_ssize_t nargs) {
    long long term = 0;
    if (nargs > 1) {
        PyErr_Format(PyExc_TypeError, "next() takes at most 1 argument (%zd given)", nargs);
        return NULL;
    }
    if (nargs == 1) {
        PyObject *index = PyNumber_Index(args[0]);
        if (index == NULL) return NULL;
        int overflow;
        term = PyLong_AsLongLongAndOverflow(index, &overflow);
        Py_DECREF(index);
        if (term == -1 && PyErr_Occurred()) return NULL;
        if (overflow > 0) term = 0;          /* above every int64 value: no stop */
        else if (overflow < 0) term = LLONG_MIN;  /* below every one: stop at once */
    }
    ColumnsObject *c = self->cols;
    if (self->pos >= c->n) Py_RETURN_NONE;
    if (term && self->stop >= 0 &&
        ((const int64_t *)c->col[self->stop].buf)[column_row(c, self->pos) * c->step[self->stop]]
            >= term)
        Py_RETURN_NONE;
    return record_at(self, self->pos++);
}

static PyObject *Records_iternext(RecordsObject *self) {
    if (self->pos >= self->cols->n) return NULL;
    return record_at(self, self->pos++);
}

static PyObject *Records_at(RecordsObject *self, PyObject *arg) {
    Py_ssize_t i = PyLong_AsSsize_t(arg);
    if (i == -1 && PyErr_Occurred()) return NULL;
    if (i < 0 || i >= self->cols->n) {
        PyErr_SetString(PyExc_IndexError, "record index out of range");
        return NULL;
    }
    return record_at(self, i);
}

static PyObject *Records_get_pos(RecordsObject *self, void *unused) {
    (void)unused;
    return PyLong_FromSsize_t(self->pos);
}

static int Records_set_pos(RecordsObject *self, PyObject *value, void *unused) {
    (void)unused;
    Py_ssize_t i = value ? PyLong_AsSsize_t(value) : -1;
    if (i == -1 && (value == NULL || PyErr_Occurred())) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "pos cannot be deleted");
        return -1;
    }
    self->pos = i < 0 ? 0 : (i > self->cols->n ? self->cols->n : i);
    return 0;
}

static Py_ssize_t Records_len(RecordsObject *self) { return self->cols->n; }

static PyObject *Records_new(PyTypeObject *cls, PyObject *args, PyObject *kwds) {
    PyTypeObject *type;
    PyObject *columns, *order = Py_None;
    Py_ssize_t stop = -1;
    static char *kwlist[] = {"type", "columns", "stop", "order", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!O|nO", kwlist, &PyType_Type, &type,
                                     &columns, &stop, &order))
        return NULL;
    if (!PyType_IsSubtype(type, &RowType)) {
        PyErr_SetString(PyExc_TypeError, "record type must be a Row subclass");
        return NULL;
    }
    ColumnsObject *cols = columns_of(columns, order);
    if (cols == NULL) return NULL;
    if (stop < -1 || stop >= cols->nf || (stop >= 0 && cols->is_float[stop])) {
        Py_DECREF(cols);
        PyErr_SetString(PyExc_ValueError, "stop must name an int64 column");
        return NULL;
    }
    RecordsObject *self = (RecordsObject *)cls->tp_alloc(cls, 0);
    if (self == NULL) {
        Py_DECREF(cols);
        return NULL;
    }
    self->cols = cols;
    self->type = (PyTypeObject *)Py_NewRef(type);
    self->stop = (int)stop;
    return (PyObject *)self;
}

static PyMethodDef Records_methods[] = {
    {"next", (PyCFunction)(void (*)(void))Records_next, METH_FASTCALL,
     "next(term=0) -> the record at pos (pos moves on); None past the end, or where the stop\n"
     "column's value is at least a nonzero term (pos stays)"},
    {"at", (PyCFunction)Records_at, METH_O, "at(i) -> the record of row i"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Records_getset[] = {
    {"pos", (getter)Records_get_pos, (setter)Records_set_pos, "the row next() returns", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PySequenceMethods Records_as_sequence = {.sq_length = (lenfunc)Records_len};

static PyTypeObject RecordsType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "gpfskit.emulator.scan._walk.Records",
    .tp_basicsize = sizeof(RecordsObject),
    .tp_dealloc = (destructor)Records_dealloc,
    .tp_as_sequence = &Records_as_sequence,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)Records_iternext,
    .tp_methods = Records_methods,
    .tp_getset = Records_getset,
    .tp_new = Records_new,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Records(type, columns, stop=-1, order=None): one `type` (a Row subclass) record\n"
              "per row of int64/float64 columns, or per row number of an int64 order (row i\n"
              "reads the columns at order[i]); iterating (or next()) goes on from pos.",
};

/* ------------------------------------------------------------------ module */

static PyMethodDef methods[] = {
    {"list_dirs", list_dirs, METH_VARARGS, list_dirs_doc},
    {"list_ahead", list_ahead, METH_VARARGS, list_ahead_doc},
    {"escape", escape, METH_VARARGS, escape_doc},
    {"format_records", format_records, METH_VARARGS, format_records_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "_walk",
    "Directory listing with stat for the metadata scan (GIL released).", -1, methods,
};

PyMODINIT_FUNC PyInit__walk(void) {
    if (PyType_Ready(&BufferType) < 0 || PyType_Ready(&PendingType) < 0 ||
        PyType_Ready(&ColumnsType) < 0 || PyType_Ready(&RowType) < 0 ||
        PyType_Ready(&FieldType) < 0 || PyType_Ready(&RecordsType) < 0)
        return NULL;
    if (pthread_atfork(ahead_prefork, ahead_postfork_parent, ahead_postfork_child) != 0) {
        PyErr_SetString(PyExc_OSError, "pthread_atfork failed");
        return NULL;
    }
    PyObject *m = PyModule_Create(&moduledef);
    if (m == NULL) return NULL;
    Py_INCREF(&BufferType);
    Py_INCREF(&RecordsType);
    Py_INCREF(&RowType);
    Py_INCREF(&FieldType);
    if (PyModule_AddObject(m, "Buffer", (PyObject *)&BufferType) < 0 ||
        PyModule_AddObject(m, "Records", (PyObject *)&RecordsType) < 0 ||
        PyModule_AddObject(m, "Row", (PyObject *)&RowType) < 0 ||
        PyModule_AddObject(m, "Field", (PyObject *)&FieldType) < 0 ||
        PyModule_AddIntConstant(m, "HAVE_STATX", GPK_HAVE_STATX) < 0 ||
        PyModule_AddIntConstant(m, "WANT_ALL_KINDS", WANT_ALL_KINDS) < 0 ||
        PyModule_AddIntConstant(m, "WANT_NAMES", WANT_NAMES) < 0 ||
        PyModule_AddIntConstant(m, "WANT_MODE", WANT_MODE) < 0 ||
        PyModule_AddIntConstant(m, "WANT_MISC", WANT_MISC) < 0 ||
        PyModule_AddIntConstant(m, "MAX_XATTRS", MAX_XATTRS) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
