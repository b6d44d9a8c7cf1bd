/* Counting newlines with SIMD, shared by _newlines.c and _hsscan.c (each includes it, so
 * each extension stays one translation unit): 32 (AVX2) or 16 (SSE2) bytes per instruction.
 */
#ifndef DBF_NEWLINE_COUNT_H
#define DBF_NEWLINE_COUNT_H

#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_X86 1
#endif

static size_t count_scalar(const unsigned char *p, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += p[i] == '\n';
    return total;
}

#ifdef HAVE_X86
__attribute__((target("avx2")))
static size_t count_avx2(const unsigned char *p, size_t n)
{
    const __m256i newline = _mm256_set1_epi8('\n');
    __m256i sums = _mm256_setzero_si256();
    size_t i = 0;
    while (i + 32 <= n) {
        /* Up to 255 rounds of byte-wise counters, then widen them (psadbw) before they wrap. */
        __m256i bytes = _mm256_setzero_si256();
        size_t rounds = (n - i) / 32;
        if (rounds > 255)
            rounds = 255;
        for (size_t r = 0; r < rounds; r++, i += 32) {
            __m256i chunk = _mm256_loadu_si256((const __m256i *)(p + i));
            bytes = _mm256_sub_epi8(bytes, _mm256_cmpeq_epi8(chunk, newline));
        }
        sums = _mm256_add_epi64(sums, _mm256_sad_epu8(bytes, _mm256_setzero_si256()));
    }
    uint64_t lanes[4];
    _mm256_storeu_si256((__m256i *)lanes, sums);
    return (size_t)(lanes[0] + lanes[1] + lanes[2] + lanes[3]) + count_scalar(p + i, n - i);
}

static size_t count_sse2(const unsigned char *p, size_t n)
{
    const __m128i newline = _mm_set1_epi8('\n');
    __m128i sums = _mm_setzero_si128();
    size_t i = 0;
    while (i + 16 <= n) {
        __m128i bytes = _mm_setzero_si128();
        size_t rounds = (n - i) / 16;
        if (rounds > 255)
            rounds = 255;
        for (size_t r = 0; r < rounds; r++, i += 16) {
            __m128i chunk = _mm_loadu_si128((const __m128i *)(p + i));
            bytes = _mm_sub_epi8(bytes, _mm_cmpeq_epi8(chunk, newline));
        }
        sums = _mm_add_epi64(sums, _mm_sad_epu8(bytes, _mm_setzero_si128()));
    }
    uint64_t lanes[2];
    _mm_storeu_si128((__m128i *)lanes, sums);
    return (size_t)(lanes[0] + lanes[1]) + count_scalar(p + i, n - i);
}
#endif

typedef size_t (*newline_counter)(const unsigned char *, size_t);

/* The fastest counter this CPU runs; ``name`` (when not NULL) says which. */
static newline_counter pick_newline_counter(const char **name)
{
    newline_counter chosen = count_scalar;
    const char *chosen_name = "scalar";
#ifdef HAVE_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) {
        chosen = count_avx2;
        chosen_name = "avx2";
    } else {
        chosen = count_sse2;
        chosen_name = "sse2";
    }
#endif
    if (name != NULL)
        *name = chosen_name;
    return chosen;
}

#endif
