#include "ktrdr_support.h"
#include <stdlib.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

int ktrdr_tune_allocator(void) {
#if defined(__GLIBC__)
    return mallopt(M_MMAP_MAX, 0) && mallopt(M_TRIM_THRESHOLD, 0x7fffffff) && mallopt(M_TOP_PAD, 64 << 20);
#else
    return 0;
#endif
}

#if defined(__linux__)
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

int ktrdr_nice_current_thread(int nice) {
#if defined(__linux__)
    return setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), nice);
#else
    (void)nice;
    return -1;
#endif
}
