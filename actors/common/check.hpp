// Invariant checks: the first of the three error tiers (STYLE.md item 5).
// PM_ASSERT guards facts that only a bug can break; it reports file and line and aborts. Bad input
// from users or files is never an assert: it is an input_error (error.hpp).
#pragma once

#include <cstdio>
#include <cstdlib>

#define PM_ASSERT(cond, msg)                                                              \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "%s:%d: assertion failed: %s (%s)\n", __FILE__, __LINE__, #cond, \
                   msg);                                                                  \
      std::abort();                                                                       \
    }                                                                                     \
  } while (0)
