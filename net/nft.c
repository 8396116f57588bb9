/* nftables' mechanism: libnftables run in the network namespace of libvirtd's bridges (net_priv.h,
 * net_nft_run).  What the commands say is fw.c's, from the store; nothing here reads the store. */
#include <errno.h>
#include <fcntl.h>
#include <nftables/libnftables.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net_priv.h"

typedef struct fw_job {
    long pid;           /* whose network namespace; 0: this process's (or the named one) */
    const char *netns;  /* a namespace by name (ip netns), when no pid */
    const char *cmds;
    bool each_line;     /* each line a command of its own (libnftables 1.0.6 answers a second `list`
                         * of one buffer from the first one's cache: "No such file or directory") */
    char *out;          /* what nft printed (owned) */
    char errbuf[1024];
    int rc;
} fw_job;

/* A thread of its own enters the namespace (setns changes only the calling thread's), so a
 * threaded `serve` keeps its own and nothing forks. */
static void *
fw_thread(void *arg)
{
    fw_job *j = arg;
    j->rc = -1;
    if (j->pid || j->netns) {
        char path[96];
        if (j->pid)
            snprintf(path, sizeof(path), "/proc/%ld/ns/net", j->pid);
        else
            snprintf(path, sizeof(path), "/run/netns/%s", j->netns);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
            snprintf(j->errbuf, sizeof(j->errbuf), "cannot enter the network namespace of %s: %s", path,
                     strerror(errno));
            if (fd >= 0)
                close(fd);
            return NULL;
        }
        close(fd);
    }
    /* bridged IPv4 through the inet hooks (conntrack for guests on one bridge); per namespace */
    int s = open("/proc/sys/net/bridge/bridge-nf-call-iptables", O_WRONLY | O_CLOEXEC);
    if (s >= 0) {
        (void)!write(s, "1", 1);
        close(s);
    }
    struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
    if (!nft) {
        snprintf(j->errbuf, sizeof(j->errbuf), "libnftables: out of memory");
        return NULL;
    }
    nft_ctx_buffer_output(nft);
    nft_ctx_buffer_error(nft);
    char *all = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&all, &len);
    j->rc = f ? 0 : -1;
    for (const char *c = j->cmds; f && j->rc == 0 && *c;) {
        size_t n = j->each_line ? strcspn(c, "\n") : strlen(c);
        char *one = strndup(c, n);
        j->rc = one && nft_run_cmd_from_buffer(nft, one) == 0 ? 0 : -1;
        free(one);
        const char *o = nft_ctx_get_output_buffer(nft);
        fputs(o ? o : "", f);
        c += n + (c[n] == '\n');
    }
    const char *e = nft_ctx_get_error_buffer(nft);
    if (f)
        fclose(f);
    j->out = all ? all : strdup("");
    if (j->rc < 0)
        snprintf(j->errbuf, sizeof(j->errbuf), "%s", e && *e ? e : "nft failed");
    nft_ctx_free(nft);
    return NULL;
}

static int
nft_run(fw_job j, char **ret_out, bool quiet, vm_error *err)
{
    pthread_t t;
    if (pthread_create(&t, NULL, fw_thread, &j) != 0)
        return vm_error_set(err, VM_ERR_INTERNAL, "cannot start a thread for nftables");
    pthread_join(t, NULL);
    if (j.rc < 0) {
        free(j.out);
        if (quiet)
            return -1;
        /* the first line says what: the rest repeats the command with carets */
        char *nl = strchr(j.errbuf, '\n');
        if (nl)
            *nl = '\0';
        return vm_error_set(err, VM_ERR_INTERNAL, "nftables: %s", j.errbuf);
    }
    if (ret_out)
        *ret_out = j.out;
    else
        free(j.out);
    return 0;
}

int
net_nft_run(long pid, const char *cmds, bool each_line, char **ret_out, bool quiet, vm_error *err)
{
    return nft_run((fw_job){ .pid = pid, .cmds = cmds, .each_line = each_line }, ret_out, quiet, err);
}

int
net_nft_run_in(const char *netns, const char *cmds, vm_error *err)
{
    return nft_run((fw_job){ .netns = netns, .cmds = cmds }, NULL, false, err);
}
