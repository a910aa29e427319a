#ifndef KTRDR_SUPPORT_H
#define KTRDR_SUPPORT_H

/// Keeps large allocations on the heap and stops trimming it, so that repeated
/// column-sized allocations reuse mapped pages. Returns 1 on success, 0 where unsupported.
int ktrdr_tune_allocator(void);

/// Gives the heap's free pages back to the system (`malloc_trim`), for when the daemon is
/// idle: the tuning above keeps them for the next run. Returns 1 when memory was released.
int ktrdr_release_free_memory(void);

/// Heap bytes in use and free (kept by the allocator), over all arenas (`mallinfo2`).
void ktrdr_heap_usage(unsigned long long *in_use, unsigned long long *free_bytes);

#ifndef KTRDR_UCRED_DEFINED
#define KTRDR_UCRED_DEFINED
/// Layout of Linux `struct ucred` (SO_PEERCRED), which Swift's Glibc module does not expose.
struct ktrdr_ucred {
    int pid;
    unsigned int uid;
    unsigned int gid;
};
#endif

/// Sets the niceness of the calling thread only (Linux: threads are scheduled one by one).
/// Returns 0, or -1 with errno set.
int ktrdr_nice_current_thread(int nice);

/// Connects a stream socket to the Unix socket at `path`: the descriptor, or -1 with errno set
/// (ENAMETOOLONG when the path does not fit `sun_path`).
int ktrdr_unix_connect(const char *path);

#endif
