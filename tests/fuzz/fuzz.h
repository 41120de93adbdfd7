/*
 * fuzz.h - what the fuzz targets in tests/fuzz/ share
 *
 * Each fuzz_NAME.c defines LLVMFuzzerTestOneInput() for one input-reading
 * entry point.  It is built twice: with clang -fsanitize=fuzzer (make fuzz,
 * libFuzzer's main) and, under the normal build, with standalone.c, whose
 * main() feeds it files, so `make test` replays tests/fuzz/regressions/
 * and the seeds with no clang.  Targets that read from a path write the
 * input into a private scratch folder (fuzz_dir()) first.
 */
#ifndef CRM_FUZZ_H
#define CRM_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* LLVMFuzzerTestOneInput - run one input through the target; always returns 0 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * LLVMFuzzerInitialize - optional: a target's one-time set-up (fixtures, a
 * store), run before the first input by libFuzzer and by standalone.c, so
 * that it is not timed as part of an input.  Returns 0.
 */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/*
 * fuzz_dir - a scratch folder private to this process, made on first use
 * under $TMPDIR (or /tmp) and removed at exit.  Never NULL (aborts when it
 * cannot be made: a harness problem, not a finding).
 */
const char *fuzz_dir(void);

/*
 * fuzz_put_file - write DATA to PATH (created 0600 or truncated); aborts on
 * an I/O error.  Returns PATH.
 */
const char *fuzz_put_file(const char *path, const void *data, size_t len);

/* fuzz_sink - where targets leave their checksums, so nothing is optimised away */
extern volatile unsigned fuzz_sink;

/* fuzz_consume - fold LEN bytes into a checksum, so that every byte is read */
unsigned fuzz_consume(const void *p, size_t len);

/* fuzz_consume_str - the same for a string; NULL is fine */
unsigned fuzz_consume_str(const char *s);

#endif
