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

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

int ktrdr_unix_connect(const char *path) {
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof addr.sun_path) { errno = ENAMETOOLONG; return -1; }
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}
