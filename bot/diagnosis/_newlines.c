/* Counting newlines, the one pass over every byte of a log that Python cannot do fast.
 *
 * Line numbers are only needed where the prefilter matched, but to know them every byte
 * before that point has to be looked at. bytearray.count(b"\n") runs a byte at a time
 * (about 2 GB/s); this compares 32 (AVX2) or 16 (SSE2) bytes per instruction. The GIL is
 * released while counting, so another thread can read or scan meanwhile.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#include "newline_count.h"

static newline_counter count_impl = count_scalar;
static const char *impl_name = "scalar";

/* Below this many bytes releasing and taking back the GIL costs more than it lets run. */
#define RELEASE_GIL_ABOVE (64 * 1024)

static PyObject *newlines_count(PyObject *module, PyObject *args)
{
    Py_buffer view;
    Py_ssize_t start, end;
    if (!PyArg_ParseTuple(args, "y*nn:count", &view, &start, &end))
        return NULL;
    /* Clamp like bytes.count's start and end (negative ends are not used here). */
    if (start < 0)
        start = 0;
    if (end > view.len)
        end = view.len;
    size_t total = 0;
    if (end > start) {
        const unsigned char *p = (const unsigned char *)view.buf + start;
        size_t n = (size_t)(end - start);
        if (n >= RELEASE_GIL_ABOVE) {
            Py_BEGIN_ALLOW_THREADS
            total = count_impl(p, n);
            Py_END_ALLOW_THREADS
        } else {
            total = count_impl(p, n);
        }
    }
    PyBuffer_Release(&view);
    return PyLong_FromSize_t(total);
}

static PyMethodDef methods[] = {
    {"count", newlines_count, METH_VARARGS,
     "count(buffer, start, end) -> the number of b'\\n' in buffer[start:end]"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_newlines", "Counting newlines fast (SIMD, GIL released).", -1, methods,
};

PyMODINIT_FUNC PyInit__newlines(void)
{
    count_impl = pick_newline_counter(&impl_name);
    PyObject *module = PyModule_Create(&module_def);
    if (module != NULL && PyModule_AddStringConstant(module, "SIMD", impl_name) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
