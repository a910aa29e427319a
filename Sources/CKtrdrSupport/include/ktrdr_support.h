#ifndef KTRDR_SUPPORT_H
#define KTRDR_SUPPORT_H

/// Keeps large allocations on the heap and stops trimming it, so that repeated
/// column-sized allocations reuse mapped pages. Returns 1 on success, 0 where unsupported.
int ktrdr_tune_allocator(void);

#endif
