#include "prometheus.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "../vmmgr/compute/domstats.h"
#include "../vmmgr/compute/instance.h"
#include "../vmmgr/core/cleanup.h"
#include "../vmmgr/core/db.h"

typedef struct family {
    const char *name, *type, *help;
} family;

enum { F_UP, F_VCPUS, F_CPU, F_RXB, F_TXB, F_RXP, F_TXP, F_RDB, F_WRB, F_RDO, F_WRO, F__LAST };

static const family families[F__LAST] = {
    [F_UP] = { "vmmgr_instance_up", "gauge", "1 when the instance's domain runs, 0 when it should but does not." },
    [F_VCPUS] = { "vmmgr_instance_vcpus", "gauge", "The instance's vCPUs." },
    [F_CPU] = { "vmmgr_instance_cpu_seconds_total", "counter", "Time the guest's vCPUs ran (since its domain started)." },
    [F_RXB] = { "vmmgr_instance_network_receive_bytes_total", "counter", "Bytes the guest received." },
    [F_TXB] = { "vmmgr_instance_network_transmit_bytes_total", "counter", "Bytes the guest sent." },
    [F_RXP] = { "vmmgr_instance_network_receive_packets_total", "counter", "Packets the guest received." },
    [F_TXP] = { "vmmgr_instance_network_transmit_packets_total", "counter", "Packets the guest sent." },
    [F_RDB] = { "vmmgr_instance_disk_read_bytes_total", "counter", "Bytes read from the instance's disks." },
    [F_WRB] = { "vmmgr_instance_disk_written_bytes_total", "counter", "Bytes written to the instance's disks." },
    [F_RDO] = { "vmmgr_instance_disk_reads_total", "counter", "Read requests to the instance's disks." },
    [F_WRO] = { "vmmgr_instance_disk_writes_total", "counter", "Write requests to the instance's disks." },
};

typedef struct row {
    char id[VM_ID_MAX], type[32], image[VM_ID_MAX];
    char *group; /* its Auto Scaling group, "" when none */
    const domstat *dom;
} row;

/* a label value as the text format writes it: \\, \" and \n escaped */
static void
label_value(FILE *out, const char *v)
{
    for (; *v; v++)
        if (*v == '\\' || *v == '"')
            fprintf(out, "\\%c", *v);
        else if (*v == '\n')
            fputs("\\n", out);
        else
            fputc(*v, out);
}

static double
value(const row *r, int f)
{
    const domstat *d = r->dom;
    double v = 0;
    switch (f) {
    case F_UP:
        return d && d->running;
    case F_VCPUS:
        return d ? d->vcpus : 0;
    case F_CPU:
        return d ? d->vcpu_ns / 1e9 : 0;
    case F_RXB:
        return d ? (double)d->rx_bytes : 0;
    case F_TXB:
        return d ? (double)d->tx_bytes : 0;
    case F_RXP:
        return d ? (double)d->rx_pkts : 0;
    case F_TXP:
        return d ? (double)d->tx_pkts : 0;
    }
    for (size_t i = 0; d && i < d->nblocks; i++) {
        const domstat_block *b = &d->blocks[i];
        v += f == F_RDB ? b->rd_bytes : f == F_WRB ? b->wr_bytes : f == F_RDO ? b->rd_reqs : b->wr_reqs;
    }
    return v;
}

int
prom_write(vm_ctx *ctx, FILE *out, vm_error *err)
{
    virConnectPtr conn = vm_ctx_conn(ctx, err);
    if (!conn)
        return -1;
    domstat *doms = NULL;
    size_t ndoms = 0;
    if (domstats_read(conn, &doms, &ndoms, err) < 0)
        return -1;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    row *rows = NULL;
    size_t n = 0, cap = 0;
    int rc = vm_db_prepare(ctx->db, "SELECT i.id, i.instance_type, i.image_id, coalesce(a.group_name, '') FROM instances i "
                           "LEFT JOIN asg_instances a ON a.instance_id = i.id WHERE i.state = ? ORDER BY i.id", &st,
                           err);
    if (rc == 0)
        rc = vm_db_bind(st, err, "i", (long long)INST_RUNNING);
    if (rc == 0) {
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                row *x = realloc(rows, cap * sizeof(*rows));
                if (!x) {
                    rc = vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
                    break;
                }
                rows = x;
            }
            row *r = &rows[n++];
            /* ids, types and image ids are checked names: nothing to escape in a label */
            snprintf(r->id, sizeof(r->id), "%s", vm_db_text(st, 0));
            snprintf(r->type, sizeof(r->type), "%s", vm_db_text(st, 1));
            snprintf(r->image, sizeof(r->image), "%s", vm_db_text(st, 2));
            r->group = strdup(vm_db_text(st, 3)); /* a group's name may hold any character */
            r->dom = NULL;
            if (!r->group) {
                n--;
                rc = vm_error_set(err, VM_ERR_INTERNAL, "out of memory");
                break;
            }
            for (size_t k = 0; k < ndoms && !r->dom; k++)
                r->dom = strcmp(doms[k].name, r->id) == 0 ? &doms[k] : NULL;
        }
        if (rc == 0 && step != SQLITE_DONE)
            rc = vm_db_error(ctx->db, "listing running instances", err);
    }
    for (int f = 0; rc == 0 && f < F__LAST; f++) {
        fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", families[f].name, families[f].help, families[f].name,
                families[f].type);
        for (size_t i = 0; i < n; i++) {
            fprintf(out, "%s{instance_id=\"%s\",instance_type=\"%s\",image_id=\"%s\",auto_scaling_group=\"",
                    families[f].name, rows[i].id, rows[i].type, rows[i].image);
            label_value(out, rows[i].group);
            fprintf(out, "\"} %.17g\n", value(&rows[i], f));
        }
    }
    for (size_t i = 0; i < n; i++)
        free(rows[i].group);
    free(rows);
    domstats_free(doms, ndoms);
    return rc;
}
