#ifndef CK_BANDWIDTH_H
#define CK_BANDWIDTH_H
#include <stddef.h>
#include <stdint.h>
/// Reads `bytes` (a multiple of 64) from `p` with the widest loads the CPU has and returns a
/// checksum (so the reads cannot be optimized away). Used to measure memory read bandwidth.
uint64_t ck_read_stream(const void *p, size_t bytes);
#endif
