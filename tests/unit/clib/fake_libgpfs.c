/*
 * A fake libgpfs.so for the tests of gpfskit.clib.libgpfs: the functions and structures of
 * gpfs.h that the bindings use, declared here in C, answering with distinctive values in
 * every field (so a misplaced or mistyped field shows) and recording what they were passed
 * (fake_last(): a text the test reads back).
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

typedef unsigned long long gpfs_ino64_t;
typedef long long gpfs_off64_t;
typedef struct { long long tv_sec; int tv_nsec; } gpfs_timestruc64_t;
typedef struct { unsigned int tv_sec; unsigned int tv_nsec; } gpfs_timestruc_t;
typedef struct { char opaque[48]; } gpfs_fssnap_id_t;

typedef struct {
    int ia_version, ia_reclen, ia_checksum;
    unsigned int ia_mode, ia_uid, ia_gid;
    gpfs_ino64_t ia_inode;
    unsigned long long ia_gen, ia_nlink;
    gpfs_off64_t ia_size, ia_blocks;
    gpfs_timestruc64_t ia_atime;
    unsigned int ia_winflags, ia_pad1;
    gpfs_timestruc64_t ia_mtime;
    unsigned int ia_flags;
    unsigned char ia_repl_data, ia_repl_data_max, ia_repl_meta, ia_repl_meta_max;
    gpfs_timestruc64_t ia_ctime;
    int ia_blocksize;
    unsigned int ia_pad3;
    gpfs_timestruc64_t ia_createtime;
    unsigned int ia_xperm, ia_dev, ia_rdev, ia_pcacheflags;
    unsigned long long ia_modsnapid;
    unsigned int ia_filesetid, ia_datapoolid;
    gpfs_ino64_t ia_inode_space_mask;
    gpfs_off64_t ia_dirminsize;
    unsigned int ia_unused[4];
} gpfs_iattr64_t;

typedef struct {
    int d_version;
    unsigned short d_reclen, d_type;
    gpfs_ino64_t d_ino;
    unsigned long long d_gen;
    unsigned int d_flags;
    char d_name[256];
} gpfs_direntx64_t;

typedef struct {
    gpfs_off64_t blockUsage, blockHardLimit, blockSoftLimit, blockInDoubt;
    int inodeUsage, inodeHardLimit, inodeSoftLimit, inodeInDoubt;
    unsigned int quoId;
    int entryType;
    unsigned int blockGraceTime, inodeGraceTime;
} gpfs_quotaInfo_t;

typedef struct { gpfs_timestruc_t creationTime; unsigned int winAttrs; } gpfs_winattr_t;
typedef struct { int totalLength, fcntlVersion, errorOffset, fcntlReserved; } gpfsFcntlHeader_t;
typedef struct { int structLen, structType; char buffer[256]; } gpfsGetName_t;
typedef struct {
    int structLen, structType, metadataReplicas, maxMetadataReplicas, dataReplicas,
        maxDataReplicas, status, reserved;
} gpfsGetReplication_t;

typedef struct { char fs[64], snap[64], fset[64], path[256]; } handle_t;
typedef struct { gpfs_ino64_t next, max; gpfs_iattr64_t attr; } scan_t;
typedef struct { gpfs_ino64_t ino; int pos; gpfs_direntx64_t dirent; } ifile_t;

static char last[1024];
static int frees, closes;
static const char contents[] = "fake file contents\n";

const char *fake_last(void) { return last; }
int fake_frees(void) { return frees; }
int fake_closes(void) { return closes; }
int fake_sizeof(const char *name) {
    if (!strcmp(name, "gpfs_iattr64")) return sizeof(gpfs_iattr64_t);
    if (!strcmp(name, "gpfs_quotaInfo")) return sizeof(gpfs_quotaInfo_t);
    if (!strcmp(name, "stat64")) return sizeof(struct stat64);
    if (!strcmp(name, "statfs64")) return sizeof(struct statfs64);
    if (!strcmp(name, "gpfs_winattr")) return sizeof(gpfs_winattr_t);
    if (!strcmp(name, "gpfsGetReplication")) return sizeof(gpfsGetReplication_t);
    return -1;
}

static handle_t *new_handle(const char *fs, const char *snap, const char *fset) {
    if (fs == NULL || !strcmp(fs, "nofs")) { errno = ENOENT; return NULL; }
    if (snap && !strcmp(snap, "eperm")) { errno = EPERM; return NULL; }
    handle_t *h = calloc(1, sizeof(*h));
    snprintf(h->fs, sizeof h->fs, "%s", fs);
    snprintf(h->snap, sizeof h->snap, "%s", snap ? snap : "");
    snprintf(h->fset, sizeof h->fset, "%s", fset ? fset : "");
    if (snap && *snap) snprintf(h->path, sizeof h->path, "/gpfs/%s/.snapshots/%s", fs, snap);
    else snprintf(h->path, sizeof h->path, "/gpfs/%s", fs);
    return h;
}

void *gpfs_get_fssnaphandle_by_name(const char *fs, const char *snap) {
    snprintf(last, sizeof last, "by_name %s %s", fs, snap ? snap : "(null)");
    return new_handle(fs, snap, NULL);
}
void *gpfs_get_fset_snaphandle_by_name(const char *fs, const char *fset, const char *snap) {
    snprintf(last, sizeof last, "fset_by_name %s %s %s", fs, fset, snap ? snap : "(null)");
    return new_handle(fs, snap, fset);
}
void *gpfs_get_fssnaphandle_by_path(const char *path) {
    snprintf(last, sizeof last, "by_path %s", path);
    if (strncmp(path, "/gpfs/", 6)) { errno = EINVAL; return NULL; }
    return new_handle("fs0", NULL, NULL);
}
int gpfs_get_fssnapid_from_fssnaphandle(handle_t *h, gpfs_fssnap_id_t *id) {
    memset(id, 0, sizeof *id);
    snprintf(id->opaque, sizeof id->opaque, "%s:%s", h->fs, h->snap);
    id->opaque[47] = 0x7f;  /* the last byte must travel too */
    return 0;
}
void *gpfs_get_fssnaphandle_by_fssnapid(const gpfs_fssnap_id_t *id) {
    char fs[48], *colon;
    if (id->opaque[47] != 0x7f) { errno = EINVAL; return NULL; }
    snprintf(fs, sizeof fs, "%s", id->opaque);
    colon = strchr(fs, ':');
    if (!colon) { errno = EINVAL; return NULL; }
    *colon = 0;
    return new_handle(fs, colon + 1, NULL);
}
const char *gpfs_get_fsname_from_fssnaphandle(handle_t *h) { return h->fs; }
const char *gpfs_get_snapname_from_fssnaphandle(handle_t *h) { return h->snap; }
const char *gpfs_get_pathname_from_fssnaphandle(handle_t *h) { return h->path; }
void gpfs_free_fssnaphandle(handle_t *h) { frees++; free(h); }
int gpfs_cmp_fssnapid(const gpfs_fssnap_id_t *a, const gpfs_fssnap_id_t *b, int *result) {
    *result = strcmp(a->opaque, b->opaque);
    return 0;
}

static void fill(gpfs_iattr64_t *a, gpfs_ino64_t ino) {
    memset(a, 0, sizeof *a);
    a->ia_version = 1; a->ia_reclen = sizeof *a;
    a->ia_mode = 0100644; a->ia_uid = 1000 + ino; a->ia_gid = 2000 + ino;
    a->ia_inode = ino; a->ia_gen = 0x100000000ULL + ino; a->ia_nlink = ino;
    a->ia_size = (1LL << 40) + ino; a->ia_blocks = 8 * ino;
    a->ia_atime.tv_sec = 1700000000 + ino; a->ia_atime.tv_nsec = 250000000;
    a->ia_mtime.tv_sec = 1700000100 + ino; a->ia_mtime.tv_nsec = 500000000;
    a->ia_ctime.tv_sec = 1700000200 + ino; a->ia_ctime.tv_nsec = 750000000;
    a->ia_createtime.tv_sec = 1600000000 + ino; a->ia_createtime.tv_nsec = 125000000;
    a->ia_winflags = 0x2; a->ia_flags = 0x4000 | 0x100000;
    a->ia_repl_data = 1; a->ia_repl_data_max = 2; a->ia_repl_meta = 3; a->ia_repl_meta_max = 4;
    a->ia_blocksize = 4 << 20; a->ia_xperm = 0x3; a->ia_dev = 0x10; a->ia_rdev = 0x20;
    a->ia_pcacheflags = 0x5; a->ia_modsnapid = (1ULL << 33) + ino; a->ia_filesetid = 7;
    a->ia_datapoolid = 65537; a->ia_inode_space_mask = 0xF0F0F0F0F0F0F0F0ULL;
}

void *gpfs_open_inodescan64(handle_t *h, const gpfs_fssnap_id_t *prev, gpfs_ino64_t *maxIno) {
    snprintf(last, sizeof last, "open_inodescan64 %s prev=%s max=%llu", h->path,
             prev ? prev->opaque : "(null)", maxIno ? *maxIno : 0ULL);
    scan_t *s = calloc(1, sizeof *s);
    s->next = 1;
    s->max = maxIno && *maxIno ? *maxIno : 3;
    return s;
}
int gpfs_next_inode64(scan_t *s, gpfs_ino64_t termIno, const gpfs_iattr64_t **out) {
    if (s->next > s->max || (termIno && s->next >= termIno)) { *out = NULL; return 0; }
    fill(&s->attr, s->next++);
    *out = &s->attr;
    return 0;
}
int gpfs_seek_inode64(scan_t *s, gpfs_ino64_t ino) {
    if (ino > 1000) { errno = EINVAL; return -1; }
    s->next = ino;
    return 0;
}
int gpfs_stat_inode64(scan_t *s, gpfs_ino64_t ino, gpfs_ino64_t termIno,
                      const gpfs_iattr64_t **out) {
    (void)termIno;
    if (ino < 1 || ino > s->max) { *out = NULL; return 0; }
    fill(&s->attr, ino);
    *out = &s->attr;
    return 0;
}
void gpfs_close_inodescan(scan_t *s) { closes++; free(s); }
int gpfs_igetfilesetname(scan_t *s, unsigned int id, char *buf, int size) {
    (void)s;
    if (id == 99) { errno = ENOENT; return -1; }
    snprintf(buf, size, "fset-%u", id);
    return 0;
}
int gpfs_igetstoragepool(scan_t *s, int id, char *buf, int size) {
    (void)s;
    snprintf(buf, size, "pool-%d", id);
    return 0;
}

void *gpfs_iopen64(handle_t *h, gpfs_ino64_t ino, int flags, const void *st, const char *sl) {
    (void)h; (void)st; (void)sl;
    snprintf(last, sizeof last, "iopen64 %llu %d", ino, flags);
    if (ino != 1 && ino != 2) { errno = ENOENT; return NULL; }
    ifile_t *f = calloc(1, sizeof *f);
    f->ino = ino;
    return f;
}
int gpfs_iread(ifile_t *f, void *buf, int size, gpfs_off64_t *offset) {
    if (f->ino != 2) { errno = EISDIR; return -1; }
    int len = (int)strlen(contents);
    if (*offset >= len) return 0;
    int n = len - (int)*offset < size ? len - (int)*offset : size;
    memcpy(buf, contents + *offset, n);
    *offset += n;
    return n;
}
int gpfs_ireaddir64(ifile_t *f, const gpfs_direntx64_t **out) {
    static const char *names[] = {".", "..", "a-long-name-for-an-entry.txt"};
    if (f->ino != 1) { errno = ENOTDIR; return -1; }
    if (f->pos >= 3) { *out = NULL; return 0; }
    gpfs_direntx64_t *d = &f->dirent;
    memset(d, 0, sizeof *d);
    d->d_type = f->pos < 2 ? 4 : 8;
    d->d_ino = 0x200000000ULL + f->pos;
    d->d_gen = 77 + f->pos;
    d->d_flags = f->pos == 2 ? 2 : 0;
    snprintf(d->d_name, sizeof d->d_name, "%s", names[f->pos++]);
    d->d_reclen = sizeof *d;
    *out = d;
    return 0;
}
void gpfs_iclose(ifile_t *f) { closes++; free(f); }

static int fill_stat(const char *path, struct stat64 *st, const char *how) {
    snprintf(last, sizeof last, "%s %s", how, path);
    if (strncmp(path, "/gpfs/", 6)) { errno = EINVAL; return -1; }
    memset(st, 0, sizeof *st);
    st->st_dev = 0x1234; st->st_ino = 0x300000001ULL; st->st_nlink = 3; st->st_mode = 0100640;
    st->st_uid = 1001; st->st_gid = 1002; st->st_rdev = 0x55; st->st_size = (1LL << 41) + 5;
    st->st_blksize = 1 << 20; st->st_blocks = 4096; st->st_atim.tv_sec = 1700000001;
    st->st_mtim.tv_sec = 1700000002; st->st_ctim.tv_sec = 1700000003;
    return 0;
}
int gpfs_stat(const char *p, struct stat64 *st) { return fill_stat(p, st, "stat"); }
int gpfs_lstat(const char *p, struct stat64 *st) { return fill_stat(p, st, "lstat"); }
int gpfs_statlite(const char *p, unsigned int *mask, struct stat64 *st) {
    char how[32];
    snprintf(how, sizeof how, "statlite mask=%u", *mask);
    return fill_stat(p, st, how);
}
int gpfs_lstatlite(const char *p, unsigned int *mask, struct stat64 *st) {
    char how[32];
    snprintf(how, sizeof how, "lstatlite mask=%u", *mask);
    return fill_stat(p, st, how);
}
int gpfs_statfs64(const char *p, struct statfs64 *sf) {
    memset(sf, 0, sizeof *sf);
    sf->f_type = strncmp(p, "/gpfs/", 6) ? 0xEF53 : 0x47504653;
    sf->f_bsize = 1 << 22; sf->f_blocks = 1ULL << 35; sf->f_bfree = 1000; sf->f_bavail = 900;
    sf->f_files = 1ULL << 33; sf->f_ffree = 12345; sf->f_namelen = 255;
    return 0;
}
int gpfs_getfilesetid(const char *path, const char *name, int *id) {
    snprintf(last, sizeof last, "getfilesetid %s %s", path, name);
    *id = (int)strlen(name);
    return 0;
}
int gpfs_fcntl(int fd, void *arg) {
    if (fd < 0) { errno = EBADF; return -1; }
    gpfsFcntlHeader_t *hdr = arg;
    int *op = (int *)(hdr + 1);  /* structLen, structType */
    snprintf(last, sizeof last, "fcntl %d total=%d version=%d len=%d type=%d", fd,
             hdr->totalLength, hdr->fcntlVersion, op[0], op[1]);
    if (op[1] == 1004) {
        gpfsGetReplication_t *r = (gpfsGetReplication_t *)op;
        r->metadataReplicas = 1; r->maxMetadataReplicas = 2; r->dataReplicas = 3;
        r->maxDataReplicas = 4; r->status = 0x21;
        return 0;
    }
    gpfsGetName_t *g = (gpfsGetName_t *)op;
    const char *answer = op[1] == 1009 ? "fset-from-fd" : op[1] == 1008 ? "pool-from-fd"
                       : op[1] == 1010 ? "snap-from-fd" : NULL;
    if (answer == NULL) { errno = EINVAL; return -1; }
    snprintf(g->buffer, sizeof g->buffer, "%s", answer);
    return 0;
}
int gpfs_quotactl(const char *path, int cmd, int id, void *buf) {
    snprintf(last, sizeof last, "quotactl %s cmd=%d id=%d", path, cmd, id);
    if ((cmd >> 8) == 3) {
        gpfs_quotaInfo_t *q = buf;
        q->blockUsage = 1LL << 34; q->blockHardLimit = 2; q->blockSoftLimit = 3;
        q->blockInDoubt = 4; q->inodeUsage = 5; q->inodeHardLimit = 6; q->inodeSoftLimit = 7;
        q->inodeInDoubt = 8; q->quoId = id; q->entryType = 9; q->blockGraceTime = 10;
        q->inodeGraceTime = 11;
    }
    return 0;
}
int gpfs_get_winattrs_path(const char *path, gpfs_winattr_t *w) {
    (void)path;
    w->winAttrs = 0x41;
    return 0;
}
int gpfs_set_winattrs_path(const char *path, int flags, gpfs_winattr_t *w) {
    snprintf(last, sizeof last, "set_winattrs %s flags=%d attrs=%u", path, flags, w->winAttrs);
    return 0;
}
int gpfs_clone_snap(const char *source, const char *dest) {
    snprintf(last, sizeof last, "clone_snap %s %s", source, dest ? dest : "(null)");
    return 0;
}
int gpfs_clone_copy(const char *source, const char *dest) {
    snprintf(last, sizeof last, "clone_copy %s %s", source, dest);
    if (!strcmp(source, "/gpfs/fs1/not-a-parent")) { errno = EINVAL; return -1; }
    return 0;
}
/* What a descriptor names, and how it is open: "<path> rw" or "<path> ro". */
static const char *fd_text(int fd) {
    static char text[600];
    char link[64], target[512];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n < 0) return "(bad fd)";
    target[n] = 0;
    int mode = fcntl(fd, F_GETFL) & O_ACCMODE;
    snprintf(text, sizeof text, "%s %s", target,
             mode == O_RDWR ? "rw" : mode == O_RDONLY ? "ro" : "wo");
    return text;
}
int gpfs_clone_split(int fd, int ancestor_limit) {
    snprintf(last, sizeof last, "clone_split %s anc=%d", fd_text(fd), ancestor_limit);
    return 0;
}
/* Refuses a writable file: only a (read-only) clone parent can be unsnapped. */
int gpfs_clone_unsnap(int fd) {
    snprintf(last, sizeof last, "clone_unsnap %s", fd_text(fd));
    struct stat st;
    if (fstat(fd, &st) != 0 || (st.st_mode & 0222)) { errno = EINVAL; return -1; }
    return 0;
}
/* Copies nBlocks 1 MiB blocks (all when -1) of a 3 GiB clone (past 32 bits); -1 when done. */
int gpfs_declone(int fd, int ancestor_limit, gpfs_off64_t blocks, gpfs_off64_t *offset) {
    snprintf(last, sizeof last, "declone %s anc=%d blocks=%lld offset=%lld", fd_text(fd),
             ancestor_limit, blocks, *offset);
    gpfs_off64_t next = blocks < 0 ? -1 : *offset + (blocks << 20);
    *offset = next < 0 || next >= 3LL << 30 ? -1 : next;
    return 0;
}
