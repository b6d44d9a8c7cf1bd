/* Scanning a log file with the system's Hyperscan on two threads, newlines counted in the
 * same pass.
 *
 * python-hyperscan serialises every scan behind one process-wide lock, so a second core
 * cannot help it. Here the file is cut at fixed offsets into blocks (each moved forward to
 * the next line start, so no line is cut), the threads take the next unscanned block in
 * turn (a busy machine slows one thread, not the whole scan), each with its own scratch
 * space, with the GIL released. A block is mapped, scanned, its newlines counted and
 * unmapped, so memory stays flat whatever the file's size. What comes back are the lines in
 * which a pattern match ended, once each, with their line numbers: what
 * newlines.hit_lines gives for python-hyperscan's offsets.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <errno.h>
#include <hs/hs.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

static const char *CAPSULE = "bot.diagnosis._hsscan.database";

/* -- counting newlines -------------------------------------------------------------------- */

#include "newline_count.h"

static newline_counter count_lines = count_scalar;

/* -- the database -------------------------------------------------------------------------- */

static void free_database(PyObject *capsule)
{
    hs_database_t *db = PyCapsule_GetPointer(capsule, CAPSULE);
    if (db != NULL)
        hs_free_database(db);
}

/* compile(patterns) -> bytes: the serialized block-mode database, pattern i with id i, no flags
 * (as bot/diagnosis/prefilter.py compiles them for python-hyperscan). */
static PyObject *hsscan_compile(PyObject *module, PyObject *args)
{
    PyObject *arg;
    long long features = -1;
    if (!PyArg_ParseTuple(args, "O|L:compile", &arg, &features))
        return NULL;
    PyObject *seq = PySequence_Fast(arg, "compile() needs a list of bytes patterns");
    if (seq == NULL)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    const char **expressions = PyMem_Calloc(n ? n : 1, sizeof(char *));
    unsigned *ids = PyMem_Calloc(n ? n : 1, sizeof(unsigned));
    PyObject *result = NULL;
    if (expressions == NULL || ids == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
        if (!PyBytes_Check(item)) {
            PyErr_SetString(PyExc_TypeError, "compile() needs a list of bytes patterns");
            goto done;
        }
        expressions[i] = PyBytes_AS_STRING(item);
        ids[i] = (unsigned)i;
    }
    hs_database_t *db = NULL;
    hs_compile_error_t *error = NULL;
    hs_platform_info_t platform;
    hs_populate_platform(&platform);
    if (features >= 0)
        platform.cpu_features = (unsigned long long)features;
    if (hs_compile_multi(expressions, NULL, ids, (unsigned)n, HS_MODE_BLOCK, &platform, &db, &error) != HS_SUCCESS) {
        PyErr_Format(PyExc_ValueError, "pattern %d: %s", error->expression,
                     error->message ? error->message : "does not compile");
        hs_free_compile_error(error);
        goto done;
    }
    char *bytes = NULL;
    size_t length = 0;
    hs_error_t status = hs_serialize_database(db, &bytes, &length);
    hs_free_database(db);
    if (status != HS_SUCCESS) {
        PyErr_Format(PyExc_RuntimeError, "hs_serialize_database failed (%d)", status);
        goto done;
    }
    result = PyBytes_FromStringAndSize(bytes, (Py_ssize_t)length);
    free(bytes);
done:
    PyMem_Free(expressions);
    PyMem_Free(ids);
    Py_DECREF(seq);
    return result;
}

/* load(serialized) -> database: ValueError for bytes of another Hyperscan version or CPU. */
static PyObject *hsscan_load(PyObject *module, PyObject *arg)
{
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    hs_database_t *db = NULL;
    hs_error_t status = hs_deserialize_database(view.buf, (size_t)view.len, &db);
    PyBuffer_Release(&view);
    if (status != HS_SUCCESS) {
        PyErr_Format(PyExc_ValueError, "not a database for this Hyperscan (%d)", status);
        return NULL;
    }
    PyObject *capsule = PyCapsule_New(db, CAPSULE, free_database);
    if (capsule == NULL)
        hs_free_database(db);
    return capsule;
}

/* -- scanning a file ----------------------------------------------------------------------- */

typedef struct {
    size_t line_start, line_end; /* offsets in the file */
    size_t newlines_before;      /* from the start of its block to line_start */
} Hit;

typedef struct {
    Hit *hits;
    size_t count, capacity;
    size_t newlines; /* in the whole block */
} BlockResult;

typedef struct {
    unsigned *ends;
    size_t count, capacity;
    int failed;
} Ends;

typedef struct {
    int fd;
    size_t size, block, page, blocks;
    const hs_database_t *db;
    BlockResult *results;
    size_t next; /* the next block to take (atomic) */
    int error;   /* first errno or -hs_error_t (atomic) */
} Job;

static int push(void **items, size_t *count, size_t *capacity, size_t size)
{
    if (*count == *capacity) {
        size_t grown = *capacity ? *capacity * 2 : 64;
        void *more = realloc(*items, grown * size);
        if (more == NULL)
            return -1;
        *items = more;
        *capacity = grown;
    }
    (*count)++;
    return 0;
}

static int on_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags, void *context)
{
    Ends *ends = context;
    if (push((void **)&ends->ends, &ends->count, &ends->capacity, sizeof(unsigned)) < 0) {
        ends->failed = 1;
        return 1; /* stop scanning */
    }
    ends->ends[ends->count - 1] = (unsigned)to;
    return 0;
}

static int compare_unsigned(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    return (x > y) - (x < y);
}

/* Where the block whose nominal start is ``at`` really starts: at the next line start, unless
 * the line is longer than a block (then it is cut at ``at``) or runs to the end of the file.
 * Both blocks beside ``at`` compute it from the same bytes, so they meet exactly. */
static size_t line_start_from(const unsigned char *base, size_t base_offset, size_t at, const Job *job)
{
    if (at == 0 || at >= job->size)
        return at < job->size ? at : job->size;
    const unsigned char *p = base + (at - base_offset);
    if (p[-1] == '\n')
        return at;
    size_t limit = at + job->block < job->size ? job->block : job->size - at;
    const unsigned char *newline = memchr(p, '\n', limit);
    if (newline != NULL)
        return at + (size_t)(newline - p) + 1;
    return at + job->block < job->size ? at : job->size;
}

static void set_error(Job *job, int error)
{
    int none = 0;
    __atomic_compare_exchange_n(&job->error, &none, error, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

static void scan_block(Job *job, size_t k, hs_scratch_t *scratch, Ends *ends)
{
    size_t nominal = k * job->block, nominal_end = nominal + job->block;
    if (nominal_end > job->size)
        nominal_end = job->size;
    /* Map from the page holding the byte before the block to where the line that crosses
     * the block's nominal end must have ended (a block further). */
    size_t map_from = nominal == 0 ? 0 : (nominal - 1) / job->page * job->page;
    size_t map_to = nominal_end + job->block < job->size ? nominal_end + job->block : job->size;
    size_t length = map_to - map_from;
    const unsigned char *base = mmap(NULL, length, PROT_READ, MAP_PRIVATE, job->fd, (off_t)map_from);
    if (base == MAP_FAILED) {
        set_error(job, errno ? errno : EIO);
        return;
    }
    /* Fault the block's pages in with one call rather than one fault per few pages. */
    madvise((void *)base, nominal_end - map_from, MADV_POPULATE_READ);
    size_t start = line_start_from(base, map_from, nominal, job);
    size_t end = line_start_from(base, map_from, nominal_end, job);
    BlockResult *result = &job->results[k];
    if (end > start) {
        const unsigned char *data = base + (start - map_from);
        size_t n = end - start;
        ends->count = 0;
        ends->failed = 0;
        hs_error_t status = hs_scan(job->db, (const char *)data, (unsigned)n, 0, scratch, on_match, ends);
        if (ends->failed) {
            set_error(job, ENOMEM);
        } else if (status != HS_SUCCESS) {
            set_error(job, -(int)status - 1000);
        } else {
            qsort(ends->ends, ends->count, sizeof(unsigned), compare_unsigned);
            size_t counted_to = 0, newlines = 0, last = (size_t)-1;
            for (size_t i = 0; i < ends->count; i++) {
                size_t at = ends->ends[i];
                const unsigned char *newline = at ? memrchr(data, '\n', at) : NULL;
                size_t line = newline ? (size_t)(newline - data) + 1 : 0;
                if (line == last)
                    continue;
                last = line;
                newlines += count_lines(data + counted_to, line - counted_to);
                counted_to = line;
                const unsigned char *stop = memchr(data + line, '\n', n - line);
                if (push((void **)&result->hits, &result->count, &result->capacity, sizeof(Hit)) < 0) {
                    set_error(job, ENOMEM);
                    break;
                }
                Hit *hit = &result->hits[result->count - 1];
                hit->line_start = start + line;
                hit->line_end = start + (stop ? (size_t)(stop - data) : n);
                hit->newlines_before = newlines;
            }
            result->newlines = newlines + count_lines(data + counted_to, n - counted_to);
        }
    }
    munmap((void *)base, length);
}

static void *worker(void *arg)
{
    Job *job = arg;
    hs_scratch_t *scratch = NULL;
    hs_error_t status = hs_alloc_scratch(job->db, &scratch);
    if (status != HS_SUCCESS) {
        set_error(job, -(int)status - 1000);
        return NULL;
    }
    Ends ends = {0};
    for (;;) {
        size_t k = __atomic_fetch_add(&job->next, 1, __ATOMIC_SEQ_CST);
        if (k >= job->blocks || __atomic_load_n(&job->error, __ATOMIC_SEQ_CST))
            break;
        scan_block(job, k, scratch, &ends);
    }
    free(ends.ends);
    hs_free_scratch(scratch);
    return NULL;
}

/* scan_file(database, fd, size, block, threads) -> (hits, newlines): the first ``size`` bytes
 * of the file, in blocks of about ``block`` bytes (whole lines; a line longer than a block is
 * cut), on ``threads`` threads. hits: (line start, line end, line index) of each line in which
 * a match ended, in order; newlines: how many the ``size`` bytes hold. */
static PyObject *hsscan_scan_file(PyObject *module, PyObject *args)
{
    PyObject *capsule;
    int fd, threads;
    Py_ssize_t size, block;
    if (!PyArg_ParseTuple(args, "Oinni:scan_file", &capsule, &fd, &size, &block, &threads))
        return NULL;
    hs_database_t *db = PyCapsule_GetPointer(capsule, CAPSULE);
    if (db == NULL)
        return NULL;
    if (size < 0 || block <= 0 || block > (Py_ssize_t)(UINT32_MAX / 2) || threads < 1 || threads > 64) {
        PyErr_SetString(PyExc_ValueError, "scan_file(): size >= 0, 0 < block < 2 GiB, 1 <= threads <= 64");
        return NULL;
    }
    Job job = {.fd = fd, .size = (size_t)size, .block = (size_t)block, .page = (size_t)sysconf(_SC_PAGESIZE),
               .db = db};
    job.blocks = (job.size + job.block - 1) / job.block;
    job.results = PyMem_RawCalloc(job.blocks ? job.blocks : 1, sizeof(BlockResult));
    if (job.results == NULL)
        return PyErr_NoMemory();
    pthread_t helpers[64];
    int started = 0;
    Py_BEGIN_ALLOW_THREADS
    for (int t = 1; t < threads && (size_t)t < job.blocks; t++) {
        if (pthread_create(&helpers[started], NULL, worker, &job) != 0)
            break; /* fewer threads: the others take its blocks */
        started++;
    }
    worker(&job);
    for (int t = 0; t < started; t++)
        pthread_join(helpers[t], NULL);
    Py_END_ALLOW_THREADS

    PyObject *result = NULL, *hits = NULL;
    if (job.error > 0) {
        errno = job.error;
        PyErr_SetFromErrno(PyExc_OSError);
        goto done;
    }
    if (job.error < 0) {
        PyErr_Format(PyExc_RuntimeError, "Hyperscan error %d", -(job.error + 1000));
        goto done;
    }
    hits = PyList_New(0);
    if (hits == NULL)
        goto done;
    size_t newlines = 0;
    for (size_t k = 0; k < job.blocks; k++) {
        BlockResult *r = &job.results[k];
        for (size_t i = 0; i < r->count; i++) {
            PyObject *hit = Py_BuildValue("(nnn)", (Py_ssize_t)r->hits[i].line_start, (Py_ssize_t)r->hits[i].line_end,
                                          (Py_ssize_t)(newlines + r->hits[i].newlines_before));
            if (hit == NULL || PyList_Append(hits, hit) < 0) {
                Py_XDECREF(hit);
                goto done;
            }
            Py_DECREF(hit);
        }
        newlines += r->newlines;
    }
    result = Py_BuildValue("(On)", hits, (Py_ssize_t)newlines);
done:
    Py_XDECREF(hits);
    for (size_t k = 0; k < job.blocks; k++)
        free(job.results[k].hits);
    PyMem_RawFree(job.results);
    return result;
}

static PyMethodDef methods[] = {
    {"compile", hsscan_compile, METH_VARARGS, "compile(patterns) -> serialized block-mode database"},
    {"load", hsscan_load, METH_O, "load(serialized) -> database"},
    {"scan_file", hsscan_scan_file, METH_VARARGS,
     "scan_file(database, fd, size, block, threads) -> ([(line start, line end, line index)], newlines)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_hsscan", "Scanning a log file with the system's Hyperscan on several threads.", -1,
    methods,
};

PyMODINIT_FUNC PyInit__hsscan(void)
{
    count_lines = pick_newline_counter(NULL);
    PyObject *module = PyModule_Create(&module_def);
    if (module != NULL && PyModule_AddStringConstant(module, "VERSION", hs_version()) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
