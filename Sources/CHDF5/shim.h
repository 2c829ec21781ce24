// The HDF5 C library (Debian's libhdf5-dev, serial; found through pkg-config hdf5), read in a
// child process.
//
// libhdf5 is not hardened against damaged files: some make it fault, abort in glibc's heap
// checks, or loop (the importers' fuzzer found all three). rtlgen therefore never calls it in its
// own process: `rtlgen_h5_snapshot` forks a child that opens the file (or in-memory image), walks
// every group, dataset and attribute, and writes what it read to a pipe as one flat record stream
// (the format below); the parent only reads the pipe. A child that dies (any signal), exits with
// an unexpected status, sends a malformed stream, or is still running after the time limit (it is
// then killed) makes the file "damaged"; the parent is never affected and reports it as one
// InputError (HDF5File.swift). The parent only initializes libhdf5 (H5open, before its first
// fork) and never opens a file with it, so no state a damaged file could corrupt is shared. The child runs C code only
// (libhdf5, malloc, write) and ends with _exit: nothing of the Swift runtime runs after fork.
//
// Record stream (little-endian u64/i64, strings as u64 length + bytes; paths relative to the
// root, "." for the root, '/'-separated):
//   'G' path, u64 n, n member names           a group and its link names (HDF5's name order)
//   'D' path, i64 element kind (4/8 float32/64, -N an N-byte integer, 0 other), i64 rank
//       (-2: not a numeric dataset), rank x u64 dims, i64 status (0: count doubles follow,
//       1: too large, 2: unreadable)
//   'O' path                                   another kind of object
//   'A' path, attribute name, i64 n (strings; 0 empty; -2 not strings or unreadable),
//       NUL-separated bytes
// Only hard links are followed (Keras files use nothing else; a soft or external link could point
// anywhere, including another file). Depth, object count and total size are capped.
#ifndef RTLGEN_CHDF5_SHIM_H
#define RTLGEN_CHDF5_SHIM_H
#include <hdf5.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RTLGEN_H5_MAX_BYTES ((size_t)1 << 28)
#define RTLGEN_H5_MAX_OBJECTS 100000
#define RTLGEN_H5_MAX_DEPTH 32
#define RTLGEN_H5_MAX_VALUES ((size_t)1 << 24)

static inline hid_t rtlgen_h5_open(const char *path) {
#if H5_VERSION_GE(1, 12, 0)
    if (H5Fis_accessible(path, H5P_DEFAULT) <= 0) return -1;
#else
    if (H5Fis_hdf5(path) <= 0) return -1;
#endif
    return H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
}

/// Opens an in-memory image of an HDF5 file (a .keras archive's model.weights.h5).
static inline hid_t rtlgen_h5_open_image(void *buf, size_t len) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0) return -1;
    if (H5Pset_fapl_core(fapl, 1 << 16, 0) < 0) { H5Pclose(fapl); return -1; }
    if (H5Pset_file_image(fapl, buf, len) < 0) { H5Pclose(fapl); return -1; }
    hid_t f = H5Fopen("rtlgen-in-memory.h5", H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    return f;
}

// --- the child: walk the file into a record stream -------------------------------------------

typedef struct { unsigned char *p; size_t len, cap; int full; long objects; } rtlgen_h5_out;

static inline void rtlgen_h5_put(rtlgen_h5_out *o, const void *d, size_t n) {
    if (o->full) return;
    if (n > RTLGEN_H5_MAX_BYTES - o->len) { o->full = 1; return; }
    if (o->len + n > o->cap) {
        size_t c = o->cap ? o->cap : 4096;
        while (c < o->len + n) c *= 2;
        unsigned char *np = (unsigned char *)realloc(o->p, c);
        if (!np) { o->full = 1; return; }
        o->p = np; o->cap = c;
    }
    memcpy(o->p + o->len, d, n);
    o->len += n;
}
static inline void rtlgen_h5_put_u64(rtlgen_h5_out *o, uint64_t v) {
    unsigned char b[8];
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
    rtlgen_h5_put(o, b, 8);
}
static inline void rtlgen_h5_put_bytes(rtlgen_h5_out *o, const void *d, size_t n) {
    rtlgen_h5_put_u64(o, (uint64_t)n);
    rtlgen_h5_put(o, d, n);
}
static inline void rtlgen_h5_put_str(rtlgen_h5_out *o, const char *s) { rtlgen_h5_put_bytes(o, s, strlen(s)); }

/// Reads an opened attribute as strings (a scalar or an array of fixed- or variable-length
/// strings), NUL-separated in a malloc'ed buffer. Returns the count, 0 for an empty attribute of
/// any type, -2 when it is not strings or cannot be read.
static inline long rtlgen_h5_attr_strings(hid_t a, char **out, size_t *outLen) {
    *out = NULL; *outLen = 0;
    hid_t t = H5Aget_type(a), s = H5Aget_space(a);
    long result = -2;
    hssize_t n = (t >= 0 && s >= 0) ? H5Sget_simple_extent_npoints(s) : -1;
    if (n == 0) {
        result = 0;
    } else if (n > 0 && n < (1 << 24) && H5Tget_class(t) == H5T_STRING) {
        if (H5Tis_variable_str(t) > 0) {
            char **items = (char **)calloc((size_t)n, sizeof(char *));
            hid_t mt = H5Tcopy(H5T_C_S1);
            H5Tset_size(mt, H5T_VARIABLE);
            H5Tset_cset(mt, H5Tget_cset(t));
            if (items && H5Aread(a, mt, items) >= 0) {
                size_t total = 0;
                for (hssize_t i = 0; i < n; i++) total += (items[i] ? strlen(items[i]) : 0) + 1;
                char *buf = (char *)malloc(total + 1);
                if (buf) {
                    size_t len = 0;
                    for (hssize_t i = 0; i < n; i++) {
                        size_t k = items[i] ? strlen(items[i]) : 0;
                        if (k) memcpy(buf + len, items[i], k);
                        buf[len + k] = 0;
                        len += k + 1;
                    }
                    *out = buf; *outLen = len; result = (long)n;
                }
#if H5_VERSION_GE(1, 12, 0)
                H5Treclaim(mt, s, H5P_DEFAULT, items);
#else
                H5Dvlen_reclaim(mt, s, H5P_DEFAULT, items);
#endif
            }
            H5Tclose(mt);
            free(items);
        } else {
            size_t sz = H5Tget_size(t);
            if (sz > 0 && sz < (1 << 20)) {
                char *raw = (char *)calloc((size_t)n * sz + 1, 1);
                hid_t mt = H5Tcopy(H5T_C_S1);
                H5Tset_size(mt, sz);
                H5Tset_strpad(mt, H5T_STR_NULLPAD);
                if (raw && H5Aread(a, mt, raw) >= 0) {
                    char *buf = (char *)malloc((size_t)n * (sz + 1) + 1);
                    if (buf) {
                        size_t len = 0;
                        for (hssize_t i = 0; i < n; i++) {
                            const char *e = raw + (size_t)i * sz;
                            size_t k = 0;
                            while (k < sz && e[k]) k++;
                            memcpy(buf + len, e, k);
                            buf[len + k] = 0;
                            len += k + 1;
                        }
                        *out = buf; *outLen = len; result = (long)n;
                    }
                }
                H5Tclose(mt);
                free(raw);
            }
        }
    }
    if (s >= 0) H5Sclose(s);
    if (t >= 0) H5Tclose(t);

    return result;
}

typedef struct { rtlgen_h5_out *o; const char *path; long count; } rtlgen_h5_attr_walk;

static inline herr_t rtlgen_h5_attr_cb(hid_t loc, const char *name, const H5A_info_t *info, void *data) {
    (void)info;
    rtlgen_h5_attr_walk *w = (rtlgen_h5_attr_walk *)data;
    if (++w->count > 10000 || w->o->full) return 1;  // stop iterating
    char *buf = NULL;
    size_t len = 0;
    long n = -2;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a >= 0) {
        n = rtlgen_h5_attr_strings(a, &buf, &len);
        H5Aclose(a);
    }
    unsigned char tag = 'A';
    rtlgen_h5_put(w->o, &tag, 1);
    rtlgen_h5_put_str(w->o, w->path);
    rtlgen_h5_put_str(w->o, name);
    rtlgen_h5_put_u64(w->o, (uint64_t)(int64_t)n);
    rtlgen_h5_put_bytes(w->o, buf, n > 0 ? len : 0);
    free(buf);
    return 0;
}

static inline void rtlgen_h5_dataset(hid_t d, const char *path, rtlgen_h5_out *o) {
    hid_t t = H5Dget_type(d), s = H5Dget_space(d);
    int64_t kind = 0, rank = -2, status = 2;
    hsize_t dims[8];
    if (t >= 0) {
        H5T_class_t c = H5Tget_class(t);
        size_t sz = H5Tget_size(t);
        if (c == H5T_FLOAT) kind = (int64_t)sz; else if (c == H5T_INTEGER) kind = -(int64_t)sz;
        if ((c == H5T_FLOAT || c == H5T_INTEGER) && s >= 0) {
            int r = H5Sget_simple_extent_ndims(s);
            if (r >= 0 && r <= 8 && H5Sget_simple_extent_dims(s, dims, NULL) >= 0) rank = r;
        }
    }
    size_t count = 1;
    if (rank >= 0) {
        for (int i = 0; i < rank; i++) {
            if (dims[i] > RTLGEN_H5_MAX_VALUES || (dims[i] > 0 && count > RTLGEN_H5_MAX_VALUES / dims[i])) { count = RTLGEN_H5_MAX_VALUES + 1; break; }
            count *= (size_t)dims[i];
        }
        if (count > RTLGEN_H5_MAX_VALUES) status = 1;
    }
    double *values = NULL;
    if (rank >= 0 && status != 1) {
        hssize_t n = H5Sget_simple_extent_npoints(s);
        if (n >= 0 && (size_t)n == count) {
            values = (double *)malloc(count ? count * sizeof(double) : 1);
            if (values && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values) >= 0) status = 0;
        }
    }
    unsigned char tag = 'D';
    rtlgen_h5_put(o, &tag, 1);
    rtlgen_h5_put_str(o, path);
    rtlgen_h5_put_u64(o, (uint64_t)kind);
    rtlgen_h5_put_u64(o, (uint64_t)rank);
    for (int i = 0; i < rank; i++) rtlgen_h5_put_u64(o, (uint64_t)dims[i]);
    rtlgen_h5_put_u64(o, (uint64_t)status);
    if (status == 0) rtlgen_h5_put(o, values, count * sizeof(double));
    free(values);
    if (s >= 0) H5Sclose(s);
    if (t >= 0) H5Tclose(t);
}

/// Records the object at `path` (opened as `obj`), its attributes, and, for a group, its members.
static inline void rtlgen_h5_walk(hid_t obj, const char *path, int depth, rtlgen_h5_out *o) {
    if (o->full || ++o->objects > RTLGEN_H5_MAX_OBJECTS || depth > RTLGEN_H5_MAX_DEPTH) { o->full = 1; return; }
    rtlgen_h5_attr_walk aw = { o, path, 0 };
    hsize_t idx = 0;
    H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, &idx, rtlgen_h5_attr_cb, &aw);
    H5I_type_t type = H5Iget_type(obj);
    unsigned char tag;
    if (type == H5I_DATASET) { rtlgen_h5_dataset(obj, path, o); return; }
    if (type != H5I_GROUP) { tag = 'O'; rtlgen_h5_put(o, &tag, 1); rtlgen_h5_put_str(o, path); return; }
    H5G_info_t gi;
    if (H5Gget_info(obj, &gi) < 0) gi.nlinks = 0;
    if (gi.nlinks > RTLGEN_H5_MAX_OBJECTS) { o->full = 1; return; }
    size_t n = (size_t)gi.nlinks;
    char **names = (char **)calloc(n ? n : 1, sizeof(char *));
    if (!names) { o->full = 1; return; }
    size_t got = 0;
    for (size_t i = 0; i < n; i++) {
        ssize_t k = H5Lget_name_by_idx(obj, ".", H5_INDEX_NAME, H5_ITER_INC, (hsize_t)i, NULL, 0, H5P_DEFAULT);
        if (k < 0 || k > 65535) continue;
        char *nm = (char *)malloc((size_t)k + 1);
        if (!nm) break;
        if (H5Lget_name_by_idx(obj, ".", H5_INDEX_NAME, H5_ITER_INC, (hsize_t)i, nm, (size_t)k + 1, H5P_DEFAULT) < 0) { free(nm); continue; }
        nm[k] = 0;
        names[got++] = nm;
    }
    tag = 'G';
    rtlgen_h5_put(o, &tag, 1);
    rtlgen_h5_put_str(o, path);
    rtlgen_h5_put_u64(o, (uint64_t)got);
    for (size_t i = 0; i < got; i++) rtlgen_h5_put_str(o, names[i]);
    for (size_t i = 0; i < got && !o->full; i++) {
        const char *nm = names[i];
        if (!nm[0] || strchr(nm, '/') || strcmp(nm, ".") == 0) continue;
        H5L_info_t li;
        if (H5Lget_info(obj, nm, &li, H5P_DEFAULT) < 0 || li.type != H5L_TYPE_HARD) continue;
        hid_t child = H5Oopen(obj, nm, H5P_DEFAULT);
        if (child < 0) continue;
        size_t lp = strlen(path), ln = strlen(nm);
        char *cp = (char *)malloc(lp + ln + 2);
        if (cp) {
            if (strcmp(path, ".") == 0) memcpy(cp, nm, ln + 1);
            else { memcpy(cp, path, lp); cp[lp] = '/'; memcpy(cp + lp + 1, nm, ln + 1); }
            rtlgen_h5_walk(child, cp, depth + 1, o);
            free(cp);
        }
        H5Oclose(child);
    }
    for (size_t i = 0; i < got; i++) free(names[i]);
    free(names);
}

static inline int rtlgen_h5_write_all(int fd, const unsigned char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w; n -= (size_t)w;
    }
    return 0;
}

/// The child's whole life: read the file, write the stream, _exit (0 read, 1 not an HDF5 file,
/// 3 too large or too deeply nested, 4 the stream could not be written).
static inline void rtlgen_h5_child(int fd, const char *path, void *image, size_t imageLen, unsigned seconds) {
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) { dup2(null, 1); dup2(null, 2); close(null); }  // libhdf5's and glibc's own complaints
    alarm(seconds + 1);  // a child whose parent is gone does not outlive the limit
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = path ? rtlgen_h5_open(path) : rtlgen_h5_open_image(image, imageLen);
    if (f < 0) _exit(1);
    hid_t root = H5Oopen(f, "/", H5P_DEFAULT);
    if (root < 0) _exit(1);
    rtlgen_h5_out o = { NULL, 0, 0, 0, 0 };
    rtlgen_h5_walk(root, ".", 0, &o);
    if (o.full) _exit(3);
    unsigned char hdr[8];
    for (int i = 0; i < 8; i++) hdr[i] = (unsigned char)((uint64_t)o.len >> (8 * i));
    if (rtlgen_h5_write_all(fd, hdr, 8) < 0 || rtlgen_h5_write_all(fd, o.p, o.len) < 0) _exit(4);
    _exit(0);
}

static inline double rtlgen_h5_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/// Reads the HDF5 file at `path` (or, when path is NULL, the image image[0..<imageLen]) in a
/// child process, within `seconds`. Returns 0 with the record stream in *out (malloc'ed, *outLen
/// bytes), 1 not an HDF5 file, 3 too large or too deeply nested, -1 the library failed or did not
/// finish (the child died, timed out, or sent a malformed stream), -2 no child could be started.
static inline int rtlgen_h5_snapshot(const char *path, void *image, size_t imageLen, unsigned seconds,
                                     unsigned char **out, size_t *outLen) {
    *out = NULL; *outLen = 0;
    // The library is initialized here once (no file is touched), so that each child starts with
    // it ready instead of initializing it again (about 5 ms per file).
    static int ready = 0;
    if (!ready) { H5open(); H5Eset_auto2(H5E_DEFAULT, NULL, NULL); ready = 1; }
    int fds[2];
    if (pipe(fds) != 0) return -2;
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);  // not inherited by programs the parent starts
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    pid_t pid = fork();
    if (pid < 0) { close(fds[0]); close(fds[1]); return -2; }
    if (pid == 0) { close(fds[0]); rtlgen_h5_child(fds[1], path, image, imageLen, seconds); _exit(4); }
    close(fds[1]);
    double deadline = rtlgen_h5_now() + (double)seconds;
    unsigned char *buf = NULL;
    size_t len = 0, cap = 0;
    int result = 0, timedOut = 0;
    for (;;) {
        double left = deadline - rtlgen_h5_now();
        if (left <= 0) { timedOut = 1; break; }
        struct pollfd p = { fds[0], POLLIN, 0 };
        int r = poll(&p, 1, (int)(left * 1000) + 1);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) { result = -1; break; }
        if (r == 0) continue;
        if (len == cap) {
            size_t c = cap ? cap * 2 : 65536;
            if (c > RTLGEN_H5_MAX_BYTES + 8 + 65536) { result = -1; break; }
            unsigned char *nb = (unsigned char *)realloc(buf, c);
            if (!nb) { result = -1; break; }
            buf = nb; cap = c;
        }
        ssize_t k = read(fds[0], buf + len, cap - len);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) { result = -1; break; }
        if (k == 0) break;  // the child closed its end: it has exited (or is exiting)
        len += (size_t)k;
    }
    close(fds[0]);
    if (timedOut || result != 0) kill(pid, SIGKILL);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    if (timedOut || result != 0) { free(buf); return -1; }
    if (!WIFEXITED(st)) { free(buf); return -1; }
    int code = WEXITSTATUS(st);
    if (code == 1 || code == 3) { free(buf); return code; }
    uint64_t n = 0;
    for (int i = 0; i < 8 && i < (int)len; i++) n |= (uint64_t)buf[i] << (8 * i);
    if (code != 0 || len < 8 || n != (uint64_t)(len - 8)) { free(buf); return -1; }
    memmove(buf, buf + 8, len - 8);
    *out = buf;
    *outLen = len - 8;
    return 0;
}
#endif
