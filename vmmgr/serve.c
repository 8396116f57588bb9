#include "serve.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libvirt/libvirt.h>
#include <pthread.h>

#include "api/http.h"
#include "compute/instance.h"
#include "services/service.h"
#include "../autoscaling/asg.h"
#include "../elb/elb.h"
#include "../imds/imds.h"
#include "../metrics/alarms.h"
#include "../metrics/ec2_actions.h"
#include "../metrics/prometheus.h"
#include "../metrics/sampler.h"

#define RECONCILE_EVERY_SEC 5
/* an alarm is evaluated within this long of the end of its period; the Auto Scaling groups are
 * converged at the same pace, right after */
#define ALARMS_EVERY_SEC 2

static void *
event_loop(void *arg)
{
    (void)arg;
    for (;;)
        if (virEventRunDefaultImpl() < 0)
            break;
    return NULL;
}

int
vm_serve_prepare(vm_error *err)
{
    if (virEventRegisterDefaultImpl() < 0)
        return vm_error_from_virt(err, "starting the libvirt event loop");
    /* the serve loop takes these signals synchronously (sigtimedwait): blocked before the event
     * thread exists, so that thread inherits the mask.  Left open there, a SIGTERM could be
     * delivered to it and end the process at once, without finishing the requests in flight. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    pthread_t t;
    if (pthread_create(&t, NULL, event_loop, NULL) != 0)
        return vm_error_set(err, VM_ERR_INTERNAL, "cannot start the libvirt event loop thread");
    pthread_detach(t);
    return 0;
}

/* libvirt's event loop thread: a guest let a device go (a detaching volume): wake the main loop,
 * which owns the context, to reconcile now rather than at its next round */
static void
on_device_removed(virConnectPtr conn, virDomainPtr dom, const char *alias, void *opaque)
{
    (void)conn;
    (void)dom;
    (void)alias;
    pthread_kill(*(pthread_t *)opaque, SIGUSR1);
}

/* the same for a domain that started, stopped, was suspended or resumed: its instance's state
 * (and an Auto Scaling group waiting for it) follows at once */
static int
on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
    (void)conn;
    (void)dom;
    (void)event;
    (void)detail;
    pthread_kill(*(pthread_t *)opaque, SIGUSR1);
    return 0;
}

/* (Re)registers the callbacks on the context's connection, new after a reconnect. */
static void
watch_devices(vm_ctx *ctx, virConnectPtr *registered, pthread_t *main_thread)
{
    vm_error ignore = { 0 };
    virConnectPtr conn = vm_ctx_conn(ctx, &ignore);
    if (!conn || conn == *registered)
        return;
    if (virConnectDomainEventRegisterAny(conn, NULL, VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
                                         VIR_DOMAIN_EVENT_CALLBACK(on_device_removed), main_thread, NULL) >= 0 &&
        virConnectDomainEventRegisterAny(conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                         VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), main_thread, NULL) >= 0)
        *registered = conn;
    else
        virResetLastError();
}

static pthread_t kick_thread;
static volatile int kick_on;

void
vm_serve_kick(void)
{
    if (kick_on)
        pthread_kill(kick_thread, SIGUSR1);
}

static long long
mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* "ADDR:PORT" into addr and *port, or -1 */
static int
split_listen(const char *text, char *addr, size_t len, long *port)
{
    const char *colon = strrchr(text, ':');
    char *end = NULL;
    *port = colon ? strtol(colon + 1, &end, 10) : -1;
    if (!colon || (size_t)(colon - text) >= len || !end || *end || *port < 0 || *port > 65535)
        return -1;
    snprintf(addr, len, "%.*s", (int)(colon - text), text);
    return 0;
}

int
vm_serve(vm_ctx *ctx, const vm_serve_opts *opts)
{
    char addr[64], maddr[64];
    long port, mport = 0;
    if (split_listen(opts->listen, addr, sizeof(addr), &port) < 0) {
        fprintf(stderr, "vmmgr serve: --listen takes ADDR:PORT, not '%s'\n", opts->listen);
        return 252;
    }
    if (opts->metrics_listen && split_listen(opts->metrics_listen, maddr, sizeof(maddr), &mport) < 0) {
        fprintf(stderr, "vmmgr serve: --metrics-listen takes ADDR:PORT, not '%s'\n", opts->metrics_listen);
        return 252;
    }
    if (!vm_ctx_initialized(ctx)) {
        fprintf(stderr, "vmmgr serve: not initialised: run 'vmmgr init' first\n");
        return 254;
    }

    /* signals are taken synchronously below; worker threads inherit the mask */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    api_config cfg = {
        .state_dir = ctx->state_dir,
        .uri = ctx->uri,
        .address = addr,
        .port = (uint16_t)port,
        .region = opts->region ? opts->region : ctx->region,
        .workers = opts->workers,
        .reconciled_elsewhere = true, /* the loop below, every RECONCILE_EVERY_SEC */
        .metrics_address = opts->metrics_listen ? maddr : NULL,
        .metrics_port = (uint16_t)mport,
        .metrics_fn = prom_write,
    };
    vm_error err = { 0 };
    ctx->keepalive = true;
    api_server *s = api_server_start(&cfg, &err);
    if (!s) {
        fprintf(stderr, "vmmgr serve: %s\n", err.msg);
        return 254;
    }
    printf("vmmgr serve: listening on http://%s:%u (region %s)\n", addr, api_server_port(s), cfg.region);
    if (opts->metrics_listen)
        printf("vmmgr serve: metrics for Prometheus on http://%s:%u/metrics\n", maddr, api_server_metrics_port(s));
    fflush(stdout);

    pthread_t main_thread = pthread_self();
    kick_thread = main_thread;
    kick_on = 1;
    svc_kick = vm_serve_kick;
    virConnectPtr registered = NULL;
    sampler *smp = opts->metrics_interval > 0 ? sampler_new() : NULL;
    elb_sampler *esmp = smp ? elb_sampler_new() : NULL;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    time_t next_reconcile = now.tv_sec + RECONCILE_EVERY_SEC, next_sample = now.tv_sec + 1;
    time_t next_eval = now.tv_sec + 1;
    long long next_asg = mono_ms() + 1000;
    for (;;) {
        watch_devices(ctx, &registered, &main_thread);
        clock_gettime(CLOCK_MONOTONIC, &now);
        time_t due = smp && next_sample < next_reconcile ? next_sample : next_reconcile;
        due = next_eval < due ? next_eval : due;
        long long due_ms = (long long)due * 1000, now_ms = mono_ms();
        due_ms = next_asg < due_ms ? next_asg : due_ms;
        long long left = due_ms > now_ms ? due_ms - now_ms : 0;
        struct timespec wait = { left / 1000, (left % 1000) * 1000000 };
        int sig = left ? sigtimedwait(&set, NULL, &wait) : -1;
        if (sig == SIGTERM || sig == SIGINT) {
            fprintf(stderr, "vmmgr serve: signal %d: finishing requests in flight\n", sig);
            break;
        }
        if (sig < 0 && left && errno != EAGAIN && errno != EINTR)
            break;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (sig == SIGUSR1 || now.tv_sec >= next_reconcile) {
            vm_error rec = { 0 };
            if (inst_reconcile(ctx, &rec) < 0)
                fprintf(stderr, "vmmgr serve: reconcile: %s\n", rec.msg);
            next_reconcile = now.tv_sec + RECONCILE_EVERY_SEC;
        }
        if (smp && now.tv_sec >= next_sample) {
            vm_error e = { 0 };
            if (sampler_round(ctx, smp, time(NULL), NULL, &e) < 0)
                fprintf(stderr, "vmmgr serve: metrics: %s\n", e.msg);
            vm_error le = { 0 };
            if (elb_metrics_round(ctx, esmp, time(NULL), &le) < 0)
                fprintf(stderr, "vmmgr serve: load balancer metrics: %s\n", le.msg);
            /* rounds keep their rhythm: a slow round delays the next, never piles up */
            next_sample += opts->metrics_interval;
            if (next_sample <= now.tv_sec)
                next_sample = now.tv_sec + opts->metrics_interval;
        }
        /* after the round, so a period that just ended has its point */
        if (now.tv_sec >= next_eval) {
            vm_error e = { 0 };
            if (alarms_evaluate(ctx, time(NULL), NULL, &e) < 0)
                fprintf(stderr, "vmmgr serve: alarms: %s\n", e.msg);
            /* the EC2 actions the transitions (or a SetAlarmState) asked for */
            vm_error ae = { 0 };
            if (alarm_ec2_run(ctx, NULL, &ae) < 0)
                fprintf(stderr, "vmmgr serve: alarm actions: %s\n", ae.msg);
            next_eval = now.tv_sec + ALARMS_EVERY_SEC;
        }
        /* the Auto Scaling groups: every 2 s, every 0.5 s while an activity is in progress, and at
         * once when a request or a domain's event woke the loop, then again 0.1 s later: a domain's
         * event comes before the job that started it has recorded its instance running */
        if (sig == SIGUSR1 || mono_ms() >= next_asg) {
            vm_error ge = { 0 };
            int busy = asg_controller_round(ctx, &ge);
            if (busy < 0 && ge.code)
                fprintf(stderr, "vmmgr serve: autoscaling: %s\n", ge.msg);
            /* the load balancers: on the same rhythm (targets registered or drained, a killed
             * HAProxy restarted) */
            vm_error le = { 0 };
            int lbusy = elb_controller_round(ctx, &le);
            /* the metadata service: started when it does not run (it outlives this daemon) */
            imds_ensure(ctx);
            busy = busy > 0 || lbusy > 0;
            next_asg = mono_ms() + (busy > 0 ? (sig == SIGUSR1 ? 100 : 500) : ALARMS_EVERY_SEC * 1000);
        }
    }
    kick_on = 0;
    sampler_free(smp);
    elb_sampler_free(esmp);
    api_server_stop(s);
    fprintf(stderr, "vmmgr serve: stopped\n");
    return 0;
}
