/* cfp_cgroup.c - a controller's tightest cgroup limit (see the header). */
#include "base/cfp_cgroup.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

bool cfp_cgroup_read(const char *dir, const char *file, char *buf, size_t size)
{
    char path[CFP_CGROUP_PATH + 64];
    FILE *f;
    bool ok;

    if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path) ||
        !(f = fopen(path, "re")))
        return false;
    ok = fgets(buf, (int)size, f) != NULL;
    fclose(f);
    if (ok)
        buf[strcspn(buf, "\n")] = '\0';
    return ok && buf[0] != '\0';
}

/* The smallest limit from mount/path up to mount itself (a parent's limit
 * applies to its children too). A level that does not exist is skipped:
 * in a container the path is the host's, while the mount shows the
 * container's own cgroup as its root. */
static uint64_t walk_up(const char *mount, const char *path, cfp_cgroup_limit_fn *limit)
{
    char dir[CFP_CGROUP_PATH];
    uint64_t best = 0;
    size_t mlen = strlen(mount);

    if (snprintf(dir, sizeof(dir), "%s%s", mount, path) >= (int)sizeof(dir))
        return 0;
    for (;;) {
        size_t len = strlen(dir);
        uint64_t v;

        while (len > mlen && dir[len - 1] == '/')
            dir[--len] = '\0';
        v = limit(dir);
        if (v > 0 && (best == 0 || v < best))
            best = v;
        if (len <= mlen)
            return best;
        while (len > mlen && dir[len - 1] != '/')
            len--;
        dir[len] = '\0';
    }
}

/* True if the comma-separated list has the entry name. */
static bool has_controller(const char *list, const char *name)
{
    size_t nlen = strlen(name);

    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        if (n == nlen && strncmp(p, name, n) == 0)
            return true;
        p += n + (p[n] == ',');
    }
    return false;
}

/* The first of the candidate mount points under root that holds file. */
static bool find_mount(const char *root, const char *const *cands, size_t n, const char *file,
                       char *out, size_t size)
{
    char probe[CFP_CGROUP_PATH + 64];
    struct stat sb;

    for (size_t i = 0; i < n; i++) {
        if (!cands[i] || snprintf(out, size, "%s/sys/fs/cgroup%s", root, cands[i]) >= (int)size)
            continue;
        if (snprintf(probe, sizeof(probe), "%s/%s", out, file) < (int)sizeof(probe) &&
            stat(probe, &sb) == 0)
            return true;
    }
    return false;
}

/* The v1 mount of ctl for a line whose controller list is list: the mount
 * named like the list first, then ctl's usual ones. */
static bool find_v1_mount(const char *root, const struct cfp_cgroup_ctl *ctl, const char *list,
                          char *out, size_t size)
{
    char sub[CFP_CGROUP_PATH];

    if (snprintf(sub, sizeof(sub), "/%s", list) < (int)sizeof(sub) &&
        find_mount(root, (const char *const[]){sub}, 1, ctl->v1_probe, out, size))
        return true;
    return find_mount(root, ctl->v1_mounts, ctl->v1_nmounts, ctl->v1_probe, out, size);
}

/* The limit of one line of /proc/self/cgroup ("N:controllers:/path");
 * *version is set to its hierarchy's (1 or 2) when non-zero. */
static uint64_t limit_line(const char *root, const struct cfp_cgroup_ctl *ctl, char *line,
                           int *version)
{
    char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    char mount[CFP_CGROUP_PATH];

    if (!c2 || c2[1] != '/')
        return 0;
    *c1 = *c2 = '\0';
    if (strcmp(line, "0") == 0 && c1[1] == '\0') {
        /* v2 (unified): mounted on /sys/fs/cgroup, or on .../unified in
         * the hybrid layout (systemd's, and these machines'). */
        const char *cands[] = {"", "/unified"};
        if (!ctl->v2_limit ||
            !find_mount(root, cands, 2, "cgroup.controllers", mount, sizeof(mount)))
            return 0;
        *version = 2;
        return walk_up(mount, c2 + 1, ctl->v2_limit);
    }
    if (!ctl->v1_limit || !has_controller(c1 + 1, ctl->v1_name) ||
        !find_v1_mount(root, ctl, c1 + 1, mount, sizeof(mount)))
        return 0;
    *version = 1;
    return walk_up(mount, c2 + 1, ctl->v1_limit);
}

uint64_t cfp_cgroup_limit(const char *root, const struct cfp_cgroup_ctl *ctl, int *version)
{
    char path[CFP_CGROUP_PATH], line[CFP_CGROUP_PATH];
    uint64_t best = 0;
    int best_version = 0;
    FILE *f;

    if (!root || strcmp(root, "/") == 0)
        root = "";
    if (snprintf(path, sizeof(path), "%s/proc/self/cgroup", root) < (int)sizeof(path) &&
        (f = fopen(path, "re"))) {
        while (fgets(line, sizeof(line), f)) {
            size_t len = strcspn(line, "\n");
            int v = 0;
            uint64_t lim;

            if (line[len] != '\n' && !feof(f)) {
                int ch; /* longer than any path we can open: skip the rest */
                while ((ch = fgetc(f)) != EOF && ch != '\n')
                    ;
                continue;
            }
            line[len] = '\0';
            lim = limit_line(root, ctl, line, &v);
            if (lim > 0 && (best == 0 || lim < best))
                best = lim, best_version = v;
        }
        fclose(f);
    }
    if (version)
        *version = best_version;
    return best;
}
