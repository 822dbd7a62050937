// Fixed worker pool: workers spin briefly on a generation word, then sleep on a futex.
// Tasks are claimed with a compare-and-swap on (generation << 32 | next index), so a
// worker that wakes late can never run a task of a finished call.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <limits.h>
#include "ck_internal.h"
#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#define CK_SPIN 20000

struct ck_pool {
    _Atomic uint64_t word;        /* generation << 32 | next task index */
    char pad0[56];
    _Atomic uint32_t seq;         /* futex word, bumped on every publish */
    _Atomic int sleepers;
    _Atomic long done;
    _Atomic int stop;
    _Atomic int busy;
    char pad1[44];
    ck_task_fn fn;
    void *ctx;
    long n;
    int nworkers;
    pthread_t *threads;
#if !defined(__linux__)
    pthread_mutex_t mu;
    pthread_cond_t cv;
#endif
};

static inline void cpu_relax(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static void pool_sleep(ck_pool *p, uint32_t seen) {
#if defined(__linux__)
    syscall(SYS_futex, (uint32_t *)&p->seq, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
#else
    pthread_mutex_lock(&p->mu);
    while (atomic_load(&p->seq) == seen) pthread_cond_wait(&p->cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
#endif
}

static void pool_wake(ck_pool *p) {
#if defined(__linux__)
    syscall(SYS_futex, (uint32_t *)&p->seq, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
#else
    pthread_mutex_lock(&p->mu);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
#endif
}

/* Claim and run tasks of generation gen until none are left. */
static void work(ck_pool *p, uint32_t gen, ck_task_fn fn, void *ctx, long n) {
    uint64_t w = atomic_load_explicit(&p->word, memory_order_acquire);
    for (;;) {
        if ((uint32_t)(w >> 32) != gen) return;
        long idx = (long)(uint32_t)w;
        if (idx >= n) return;
        if (atomic_compare_exchange_weak_explicit(&p->word, &w, w + 1, memory_order_acq_rel, memory_order_acquire)) {
            fn(ctx, idx);
            atomic_fetch_add_explicit(&p->done, 1, memory_order_release);
            w = atomic_load_explicit(&p->word, memory_order_acquire);
        }
    }
}

static void *worker_main(void *arg) {
    ck_pool *p = (ck_pool *)arg;
    uint32_t myGen = 0;
    for (;;) {
        int spins = 0;
        uint64_t w;
        for (;;) {
            w = atomic_load_explicit(&p->word, memory_order_acquire);
            if ((uint32_t)(w >> 32) != myGen || atomic_load_explicit(&p->stop, memory_order_relaxed)) break;
            if (++spins < CK_SPIN) {
                cpu_relax();
            } else {
                atomic_fetch_add(&p->sleepers, 1);
                uint32_t s = atomic_load(&p->seq);
                w = atomic_load(&p->word);
                if ((uint32_t)(w >> 32) == myGen && !atomic_load(&p->stop)) pool_sleep(p, s);
                atomic_fetch_sub(&p->sleepers, 1);
                spins = 0;
            }
        }
        if (atomic_load(&p->stop)) return NULL;
        uint32_t gen = (uint32_t)(w >> 32);
        ck_task_fn fn = p->fn;
        void *ctx = p->ctx;
        long n = p->n;
        work(p, gen, fn, ctx, n);
        myGen = gen;
    }
}

ck_pool *ck_pool_create(int threads) {
    ck_pool *p = (ck_pool *)calloc(1, sizeof(ck_pool));
    if (!p) return NULL;
    p->nworkers = threads > 1 ? threads - 1 : 0;
#if !defined(__linux__)
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
#endif
    if (p->nworkers > 0) {
        p->threads = (pthread_t *)calloc((size_t)p->nworkers, sizeof(pthread_t));
        for (int i = 0; i < p->nworkers; i++) {
            if (pthread_create(&p->threads[i], NULL, worker_main, p) != 0) {
                p->nworkers = i;
                break;
            }
        }
    }
    return p;
}

void ck_pool_destroy(ck_pool *p) {
    if (!p) return;
    atomic_store(&p->stop, 1);
    atomic_fetch_add(&p->seq, 1);
    pool_wake(p);
    for (int i = 0; i < p->nworkers; i++) pthread_join(p->threads[i], NULL);
    free(p->threads);
    free(p);
}

void ck_pool_run(ck_pool *p, long n, ck_task_fn fn, void *ctx) {
    if (n <= 0) return;
    int expected = 0;
    if (p->nworkers == 0 || n == 1 ||
        !atomic_compare_exchange_strong(&p->busy, &expected, 1)) {
        /* single task, no workers, or a nested / concurrent call: run inline */
        for (long i = 0; i < n; i++) fn(ctx, i);
        return;
    }
    p->fn = fn;
    p->ctx = ctx;
    p->n = n;
    atomic_store_explicit(&p->done, 0, memory_order_relaxed);
    uint64_t old = atomic_load_explicit(&p->word, memory_order_relaxed);
    uint32_t gen = (uint32_t)(old >> 32) + 1;
    if (gen == 0) gen = 1;
    atomic_store(&p->word, (uint64_t)gen << 32);
    atomic_fetch_add(&p->seq, 1);
    if (atomic_load(&p->sleepers) > 0) pool_wake(p);
    work(p, gen, fn, ctx, n);
    while (atomic_load_explicit(&p->done, memory_order_acquire) < n) cpu_relax();
    /* Close the generation: a worker that saw it but was descheduled before reading fn/ctx/n
       may read the *next* call's fields; with the index at its maximum its claim fails (idx >= n
       for any n) instead of running a next-call task under this generation. */
    atomic_store_explicit(&p->word, ((uint64_t)gen << 32) | 0xFFFFFFFFu, memory_order_release);
    atomic_store_explicit(&p->busy, 0, memory_order_release);
}

/* Two phases in one dispatch: tasks 0..<np run pf; a task of the second phase first waits until
   every first-phase task has finished. Tasks are claimed in index order, so by the time a thread
   holds a second-phase task every first-phase task is held by a running thread: no deadlock. */
typedef struct {
    ck_task_fn pf;
    void *pctx;
    long np;
    ck_task_fn fn;
    void *ctx;
    _Atomic long finished;
} phased_job;

static void phased_task(void *c, long i) {
    phased_job *j = (phased_job *)c;
    if (i < j->np) {
        j->pf(j->pctx, i);
        atomic_fetch_add_explicit(&j->finished, 1, memory_order_release);
        return;
    }
    while (atomic_load_explicit(&j->finished, memory_order_acquire) < j->np) cpu_relax();
    j->fn(j->ctx, i - j->np);
}

void ck_pool_run_phased(ck_pool *pool, long np, ck_task_fn pf, void *pctx, long n, ck_task_fn fn, void *ctx) {
    phased_job j;
    j.pf = pf; j.pctx = pctx; j.np = np > 0 ? np : 0; j.fn = fn; j.ctx = ctx;
    atomic_init(&j.finished, 0);
    ck_pool_run(pool, j.np + (n > 0 ? n : 0), phased_task, &j);
}

/* ---- contiguous ranges with stealing ----
   A dispatch's units split into one contiguous range per task; task k claims the units of range
   k front to back. When its range is empty it takes the back half of the next non-empty range
   (that half becomes its own range), so a thread streams through adjacent memory, a late or slow
   thread's units are still taken, and the owner and a thief rarely touch the same word. A range
   is one 64-bit word: next unit (low half), end (high half). */
typedef struct {
    _Atomic uint64_t w;
    char pad[56];
} ck_range_slot;

static inline uint64_t rng_pack(uint64_t next, uint64_t end) { return next | (end << 32); }

size_t ck_ranges_bytes(int n) { return (size_t)(n > 0 ? n : 1) * sizeof(ck_range_slot); }

void ck_ranges_init(void *mem, int n, long units) {
    ck_range_slot *s = (ck_range_slot *)mem;
    if (n < 1) n = 1;
    if (units < 0) units = 0;
    if (units > 0x7FFFFFFFL) units = 0x7FFFFFFFL;
    for (int k = 0; k < n; k++) atomic_init(&s[k].w, rng_pack((uint64_t)(units * k / n), (uint64_t)(units * (k + 1) / n)));
}

long ck_ranges_claim(void *mem, int n, int k) {
    ck_range_slot *s = (ck_range_slot *)mem;
    ck_range_slot *own = &s[k];
    uint64_t w = atomic_load_explicit(&own->w, memory_order_relaxed);
    while ((uint32_t)w < (uint32_t)(w >> 32)) {
        if (atomic_compare_exchange_weak_explicit(&own->w, &w, w + 1, memory_order_relaxed, memory_order_relaxed))
            return (long)(uint32_t)w;
    }
    for (int i = 1; i < n; i++) {
        ck_range_slot *v = &s[(k + i) % n];
        uint64_t vw = atomic_load_explicit(&v->w, memory_order_relaxed);
        for (;;) {
            const uint32_t vn = (uint32_t)vw, ve = (uint32_t)(vw >> 32);
            if (vn >= ve) break;
            const uint32_t mid = vn + (ve - vn) / 2; /* the victim keeps [vn, mid) */
            if (atomic_compare_exchange_weak_explicit(&v->w, &vw, rng_pack(vn, mid), memory_order_relaxed, memory_order_relaxed)) {
                /* [mid, ve) is ours: mid now, the rest as our range (empty until this store, and
                   only its owner refills an empty range, so nobody else wrote it meanwhile) */
                atomic_store_explicit(&own->w, rng_pack(mid + 1, ve), memory_order_relaxed);
                return (long)mid;
            }
        }
    }
    return -1;
}
