/* The tiny test harness of the C ABI tests: CHECK(cond) counts passes and failures and
 * prints the failed condition with knast's last error; REPORT() prints the closing line
 * ("N passed, M failed") and gives the exit status. */
#ifndef KNAST_TESTS_C_CHECK_H
#define KNAST_TESTS_C_CHECK_H

#include <knast/knast.h>

#include <stdio.h>

static int passed;
static int failed;

#define CHECK(cond)                                                                 \
  do {                                                                              \
    if (cond) {                                                                     \
      ++passed;                                                                     \
    } else {                                                                        \
      ++failed;                                                                     \
      fprintf(stderr, "%s:%d: check failed: %s (%s)\n", __FILE__, __LINE__, #cond, \
              knast_last_error()->message);                                         \
    }                                                                               \
  } while (0)

#define REPORT() (printf("%d passed, %d failed\n", passed, failed), failed == 0 ? 0 : 1)

#endif
