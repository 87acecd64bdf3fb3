// ggml-oracle: runs ggml's own reference conversions, so that tests can hold Freehold's to them bit for bit.
//
//   ggml-oracle quantize   TYPE N   < N float32 values        > quantized bytes
//   ggml-oracle dequantize TYPE N   < bytes of N values        > N float32 values
//
// TYPE is a ggml type name as ggml prints it (f16, bf16, q4_0, q4_K, ...). Quantisation goes through
// ggml_quantize_chunk with no importance matrix, which is what llama-quantize uses without --imatrix.
#include "ggml.h"
#include "ggml-quants.h" // quantize_row_q8_K_ref / dequantize_row_q8_K: Q8_K has no public chunk API

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static enum ggml_type type_by_name(const char * name) {
    for (int t = 0; t < GGML_TYPE_COUNT; t++) {
        const char * n = ggml_type_name((enum ggml_type) t);
        if (n != NULL && strcasecmp(n, name) == 0) {
            return (enum ggml_type) t;
        }
    }
    fprintf(stderr, "ggml-oracle: unknown type %s\n", name);
    exit(2);
}

static void read_all(void * buf, size_t n) {
    if (fread(buf, 1, n, stdin) != n) {
        fprintf(stderr, "ggml-oracle: expected %zu bytes on stdin\n", n);
        exit(2);
    }
}

int main(int argc, char ** argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: ggml-oracle quantize|dequantize TYPE N\n");
        return 2;
    }
    const enum ggml_type type = type_by_name(argv[2]);
    const int64_t n = atoll(argv[3]);
    const int64_t bs = ggml_blck_size(type);
    if (n <= 0 || n % bs != 0) {
        fprintf(stderr, "ggml-oracle: N=%lld is not a positive multiple of the block size %lld\n", (long long) n, (long long) bs);
        return 2;
    }
    const size_t qbytes = ggml_row_size(type, n);
    float * f = malloc(sizeof(float) * n);
    void * q = calloc(1, qbytes);
    if (strcmp(argv[1], "quantize") == 0) {
        read_all(f, sizeof(float) * n);
        if (type == GGML_TYPE_Q8_K) {
            quantize_row_q8_K_ref(f, q, n);
        } else {
            ggml_quantize_init(type);
            ggml_quantize_chunk(type, f, q, 0, 1, n, NULL);
        }
        fwrite(q, 1, qbytes, stdout);
    } else if (strcmp(argv[1], "dequantize") == 0) {
        read_all(q, qbytes);
        const struct ggml_type_traits * tr = ggml_get_type_traits(type);
        if (type == GGML_TYPE_Q8_K) {
            dequantize_row_q8_K(q, f, n);
        } else if (tr->to_float == NULL) {
            fprintf(stderr, "ggml-oracle: no dequantisation for %s\n", argv[2]);
            return 2;
        } else {
            tr->to_float(q, f, n);
        }
        fwrite(f, sizeof(float), n, stdout);
    } else {
        fprintf(stderr, "ggml-oracle: unknown command %s\n", argv[1]);
        return 2;
    }
    free(f);
    free(q);
    return 0;
}
