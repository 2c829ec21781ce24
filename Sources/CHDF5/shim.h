// The few HDF5 C-library calls the Keras importer needs, wrapped so that Swift can call them:
// HDF5's type and property-list constants are macros over global ids, which Swift cannot import.
// Debian's libhdf5-dev (serial) provides the header and libhdf5 (found through pkg-config hdf5).
#ifndef RTLGEN_CHDF5_SHIM_H
#define RTLGEN_CHDF5_SHIM_H
#include <hdf5.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/// A guard around the HDF5 library's reading of a user's file. libhdf5 is not hardened against
/// damaged files: some make it fault, abort (heap checks) or loop. While a guard is active, a
/// fault (SIGSEGV, SIGBUS, SIGFPE, SIGILL), an abort (SIGABRT) or the alarm (`seconds`) prints one message naming the file and ends the
/// process with exit status 2 (nothing has been written yet: files are read before any output).
// State lives in function-local statics (Swift imports functions from this header, not globals).
static inline char *rtlgen_h5_guard_message(void) { static char m[1024]; return m; }
static inline size_t *rtlgen_h5_guard_length(void) { static size_t n = 0; return &n; }
static inline char *rtlgen_h5_guard_stack(void) { static char st[1 << 16]; return st; }
/// stderr as it was before the guard (the library's own complaints, e.g. glibc's heap checks,
/// go to /dev/null while it reads; the one message goes to the real stderr).
static inline int *rtlgen_h5_guard_stderr(void) { static int fd = -1; return &fd; }

static inline void rtlgen_h5_guard_handler(int sig) {
    (void)sig;
    int fd = *rtlgen_h5_guard_stderr() >= 0 ? *rtlgen_h5_guard_stderr() : 2;
    ssize_t w = write(fd, rtlgen_h5_guard_message(), *rtlgen_h5_guard_length());
    (void)w;
    _exit(2);
}

static inline void rtlgen_h5_guard_begin(const char *file, unsigned seconds) {
    const char *a = "rtlgen: error: ";
    const char *b = ": damaged HDF5 file (the HDF5 library failed or did not finish reading it)\n";
    size_t la = strlen(a), lf = strlen(file), lb = strlen(b);
    char *m = rtlgen_h5_guard_message();
    if (lf > 1024 - la - lb - 1) lf = 1024 - la - lb - 1;
    memcpy(m, a, la);
    memcpy(m + la, file, lf);
    memcpy(m + la + lf, b, lb);
    *rtlgen_h5_guard_length() = la + lf + lb;
    stack_t ss;
    ss.ss_sp = rtlgen_h5_guard_stack();
    ss.ss_size = 1 << 16;
    ss.ss_flags = 0;
    sigaltstack(&ss, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = rtlgen_h5_guard_handler;
    sa.sa_flags = SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGFPE, &sa, NULL);
    sigaction(SIGILL, &sa, NULL);
    sigaction(SIGABRT, &sa, NULL);
    sigaction(SIGALRM, &sa, NULL);
    int *saved = rtlgen_h5_guard_stderr();
    if (*saved < 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) {
            *saved = dup(2);
            dup2(null, 2);
            close(null);
        }
    }
    alarm(seconds);
}

static inline void rtlgen_h5_guard_end(void) {
    alarm(0);
    int *saved = rtlgen_h5_guard_stderr();
    if (*saved >= 0) {
        dup2(*saved, 2);
        close(*saved);
        *saved = -1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGFPE, &sa, NULL);
    sigaction(SIGILL, &sa, NULL);
    sigaction(SIGABRT, &sa, NULL);
    sigaction(SIGALRM, &sa, NULL);
}

/// Silences HDF5's error stack printing (every failure is reported by the caller instead).
static inline void rtlgen_h5_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

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

static inline void rtlgen_h5_close_file(hid_t f) { if (f >= 0) H5Fclose(f); }

/// 1 when every component of `path` (relative to `loc`, '/'-separated) exists, else 0.
static inline int rtlgen_h5_exists(hid_t loc, const char *path) {
    if (strcmp(path, ".") == 0 || strcmp(path, "/") == 0) return 1;
    size_t n = strlen(path);
    char *p = (char *)malloc(n + 1);
    if (!p) return 0;
    memcpy(p, path, n + 1);
    int ok = 1;
    for (size_t i = 0; i <= n && ok; i++) {
        if (p[i] == '/' || p[i] == 0) {
            char c = p[i];
            p[i] = 0;
            if (i > 0 && H5Lexists(loc, p, H5P_DEFAULT) <= 0) ok = 0;
            p[i] = c;
        }
    }
    free(p);
    return ok;
}

/// 2 a group, 1 a dataset, 0 something else, -1 missing.
static inline int rtlgen_h5_kind(hid_t loc, const char *path) {
    if (!rtlgen_h5_exists(loc, path)) return -1;
    hid_t o = H5Oopen(loc, path, H5P_DEFAULT);
    if (o < 0) return -1;
    H5I_type_t t = H5Iget_type(o);
    H5Oclose(o);
    if (t == H5I_GROUP) return 2;
    if (t == H5I_DATASET) return 1;
    return 0;
}

/// Names of a group's members, NUL-separated in a malloc'ed buffer; returns the count or -1.
static inline long rtlgen_h5_members(hid_t loc, const char *path, char **out, size_t *outLen) {
    *out = NULL; *outLen = 0;
    if (rtlgen_h5_kind(loc, path) != 2) return -1;
    hid_t g = H5Gopen2(loc, path, H5P_DEFAULT);
    if (g < 0) return -1;
    H5G_info_t gi;
    if (H5Gget_info(g, &gi) < 0) { H5Gclose(g); return -1; }
    size_t cap = 64, len = 0;
    char *buf = (char *)malloc(cap);
    long count = 0;
    for (hsize_t i = 0; i < gi.nlinks && buf; i++) {
        ssize_t k = H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, NULL, 0, H5P_DEFAULT);
        if (k < 0) { free(buf); buf = NULL; break; }
        while (len + (size_t)k + 1 > cap) { cap *= 2; char *nb = (char *)realloc(buf, cap); if (!nb) { free(buf); buf = NULL; break; } buf = nb; }
        if (!buf) break;
        H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, buf + len, (size_t)k + 1, H5P_DEFAULT);
        len += (size_t)k + 1;
        count++;
    }
    H5Gclose(g);
    if (!buf) return -1;
    *out = buf; *outLen = len;
    return count;
}

/// Reads the string attribute `name` of the object at `path` (a scalar or an array of fixed- or
/// variable-length strings) as NUL-separated strings in a malloc'ed buffer. Returns the number
/// of strings; 0 for an empty attribute of any type; -1 missing; -2 not strings or unreadable.
static inline long rtlgen_h5_string_attr(hid_t loc, const char *path, const char *name, char **out, size_t *outLen) {
    *out = NULL; *outLen = 0;
    if (rtlgen_h5_kind(loc, path) < 0) return -1;
    if (H5Aexists_by_name(loc, path, name, H5P_DEFAULT) <= 0) return -1;
    hid_t a = H5Aopen_by_name(loc, path, name, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0) return -2;
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
    H5Aclose(a);
    return result;
}

/// The shape of the dataset at `path` (up to 8 dimensions): returns the rank, -1 missing,
/// -2 not a numeric dataset.
static inline int rtlgen_h5_shape(hid_t loc, const char *path, unsigned long long dims[8]) {
    if (rtlgen_h5_kind(loc, path) != 1) return -1;
    hid_t d = H5Dopen2(loc, path, H5P_DEFAULT);
    if (d < 0) return -2;
    hid_t t = H5Dget_type(d), s = H5Dget_space(d);
    int rank = -2;
    if (t >= 0 && s >= 0) {
        H5T_class_t c = H5Tget_class(t);
        if (c == H5T_FLOAT || c == H5T_INTEGER) {
            int r = H5Sget_simple_extent_ndims(s);
            if (r >= 0 && r <= 8) {
                hsize_t hd[8];
                H5Sget_simple_extent_dims(s, hd, NULL);
                for (int i = 0; i < r; i++) dims[i] = (unsigned long long)hd[i];
                rank = r;
            }
        }
    }
    if (s >= 0) H5Sclose(s);
    if (t >= 0) H5Tclose(t);
    H5Dclose(d);
    return rank;
}

/// Reads the whole dataset at `path` as doubles (float32 and float64 convert exactly; integers
/// up to 2^53 too) into `buf` of `count` values. Returns 0 or -1.
static inline int rtlgen_h5_read_doubles(hid_t loc, const char *path, double *buf, size_t count) {
    hid_t d = H5Dopen2(loc, path, H5P_DEFAULT);
    if (d < 0) return -1;
    hid_t s = H5Dget_space(d);
    hssize_t n = s >= 0 ? H5Sget_simple_extent_npoints(s) : -1;
    int r = -1;
    if (n >= 0 && (size_t)n == count) {
        r = H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0 ? -1 : 0;
    }
    if (s >= 0) H5Sclose(s);
    H5Dclose(d);
    return r;
}

/// The dataset's stored element type: 4 float32, 8 float64, -N an N-byte integer, 0 other.
static inline int rtlgen_h5_element_kind(hid_t loc, const char *path) {
    hid_t d = H5Dopen2(loc, path, H5P_DEFAULT);
    if (d < 0) return 0;
    hid_t t = H5Dget_type(d);
    int k = 0;
    if (t >= 0) {
        H5T_class_t c = H5Tget_class(t);
        size_t sz = H5Tget_size(t);
        if (c == H5T_FLOAT) k = (int)sz; else if (c == H5T_INTEGER) k = -(int)sz;
        H5Tclose(t);
    }
    H5Dclose(d);
    return k;
}
#endif
