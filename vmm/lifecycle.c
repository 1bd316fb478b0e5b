/*
 * A domain's lifecycle, in one place: what the guest does to itself
 * (poweroff, reset, crash), what the operator does from the console shell
 * (stop, start, restart) and what the domain's CPUs do about both.
 *
 *   NOT_STARTED --start--> STARTING        (autostart = false: waits)
 *   STARTING ---first CPU loads it (unless fresh), enters it--> RUNNING
 *   RUNNING --guest poweroff, crash (on_crash = "stop"), stop--> STOPPING
 *   RUNNING --guest reset, crash (on_crash = "restart"), restart--> RESTARTING
 *   STOPPING ---every CPU out; first CPU scrubs its RAM--> STOPPED
 *   RESTARTING ---every CPU out--> STARTING
 *   STOPPED --start, restart--> STARTING
 *
 * Leaving RUNNING is one compare-and-swap (domain_end): whoever wins it
 * marks every vCPU stopped and NMIs its CPU -- the NMI exits whatever the
 * guest does, interrupts off or not -- then, before anything else, turns
 * its devices' bus mastering off and resets them (passthrough_quiesce):
 * no DMA lands in memory about to be scrubbed or reused. Every other step
 * runs on the domain's own CPUs: the first vCPU's CPU leads (waits until
 * the others are out, scrubs, reloads), the others park. A stopped
 * domain's CPUs halt until an NMI; they still serve the console.
 */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/tsc.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "vmm/console/conin.h"
#include "vmm/domain.h"
#include "vmm/passthrough.h"
#include "vmm/dev/vlapic.h"

void (*domain_all_stopped)(void);

/* Domains running, starting or restarting, and those waiting for their
 * first `start`: while any is, on_idle does not act. */
static uint32_t live_domains;

void domain_lifecycle_add(struct domain *d)
{
	(void)d;
	__atomic_add_fetch(&live_domains, 1, __ATOMIC_ACQ_REL);
}

/* One domain fewer live; after the last, on_idle -- unless the operator
 * stopped it: they are at the console. */
static void domain_gone(bool by_operator)
{
	if (__atomic_sub_fetch(&live_domains, 1, __ATOMIC_ACQ_REL))
		return;
	if (by_operator)
		pr_info("all domains stopped (the shell stays: start NAME, or poweroff)\n");
	else if (domain_all_stopped)
		domain_all_stopped();
}

static uint32_t state_of(const struct domain *d)
{
	return __atomic_load_n(&d->state, __ATOMIC_ACQUIRE);
}

static void set_state(struct domain *d, enum domain_state s)
{
	__atomic_store_n(&d->state, (uint32_t)s, __ATOMIC_RELEASE);
}

const char *domain_state_name(const struct domain *d)
{
	switch (state_of(d)) {
	case DOMAIN_NOT_STARTED: return "not started";
	case DOMAIN_STARTING:	 return d->starts ? "restarting" : "starting";
	case DOMAIN_RUNNING:	 return "running";
	case DOMAIN_STOPPING:	 return "stopping";
	case DOMAIN_STOPPED:	 return d->crashed ? "crashed" : "stopped";
	default:		 return "restarting";
	}
}

/* Out of RUNNING, once: the winner's `why` is the one printed. */
static void domain_end(struct domain *d, const char *why, bool restart, bool crash,
		       bool by_operator)
{
	uint32_t was = DOMAIN_RUNNING;

	if (!__atomic_compare_exchange_n(&d->state, &was,
					 restart ? DOMAIN_RESTARTING : DOMAIN_STOPPING, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return;
	__atomic_store_n(&d->running, false, __ATOMIC_RELEASE);
	/* Its CPUs leave the guest at the NMI and see it stopped. */
	for (uint32_t i = 0; i < d->nvcpus; i++) {
		__atomic_store_n(&d->vcpus[i].state, VCPU_STOPPED, __ATOMIC_RELEASE);
		vcpu_kick(&d->vcpus[i]);
	}
	/* Its devices stop DMA before anything else, then what they tried
	 * outside its memory is reported. */
	passthrough_quiesce(d);
	iommu_poll_faults();
	spin_lock(&d->lock);
	vuart_flush(&d->uart);
	spin_unlock(&d->lock);
	d->crashed = crash;
	hv_snprintf(d->stop_reason, sizeof(d->stop_reason), "%s", why);
	pr_info("domain %s stopped: %s\n", d->name, why);
	domain_print_exits(d);
	if (restart)
		pr_info("domain %s restarting\n", d->name);
	/* Its leader scrubs only now: the devices are quiet, the lines out. */
	__atomic_store_n(&d->end_done, true, __ATOMIC_RELEASE);
	if (!restart)
		domain_gone(by_operator);
}

void domain_stop(struct domain *d, const char *why) { domain_end(d, why, false, false, false); }
void domain_reboot(struct domain *d, const char *why) { domain_end(d, why, true, false, false); }

void domain_crash(struct domain *d, const char *why)
{
	domain_end(d, why, d->cfg->on_crash == HVCFG_ON_CRASH_RESTART, true, false);
}

static int refuse(const struct domain *d, char *msg, size_t len, int err)
{
	hv_snprintf(msg, len, "domain %s is %s", d->name, domain_state_name(d));
	return err;
}

/* STOPPED or NOT_STARTED to STARTING; its first CPU waits on the state. */
static int start_from(struct domain *d, uint32_t from)
{
	bool was_stopped = from == DOMAIN_STOPPED;

	/* Counted before its leader can see it (and fail to load it); one
	 * waiting for its first start is counted already. */
	if (was_stopped)
		__atomic_add_fetch(&live_domains, 1, __ATOMIC_ACQ_REL);
	d->op_start = true;
	if (!__atomic_compare_exchange_n(&d->state, &from, DOMAIN_STARTING, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		if (was_stopped)
			__atomic_sub_fetch(&live_domains, 1, __ATOMIC_ACQ_REL);
		return -EBUSY;
	}
	vcpu_kick(&d->vcpus[0]);
	return 0;
}

int domain_op_start(struct domain *d, char *msg, size_t len)
{
	uint32_t s = state_of(d);

	if ((s != DOMAIN_STOPPED && s != DOMAIN_NOT_STARTED) || start_from(d, s))
		return refuse(d, msg, len, -EBUSY);
	hv_snprintf(msg, len, "domain %s starting", d->name);
	return 0;
}

int domain_op_stop(struct domain *d, char *msg, size_t len)
{
	return domain_op_stop_for(d, "stopped by the operator", msg, len);
}

int domain_op_stop_for(struct domain *d, const char *why, char *msg, size_t len)
{
	if (state_of(d) != DOMAIN_RUNNING)
		return refuse(d, msg, len, -EBUSY);
	domain_end(d, why, false, false, true);
	hv_snprintf(msg, len, "domain %s stopping", d->name);
	return 0;
}

int domain_op_restart(struct domain *d, char *msg, size_t len)
{
	uint32_t s = state_of(d);

	if (s == DOMAIN_STOPPED || s == DOMAIN_NOT_STARTED)
		return domain_op_start(d, msg, len);
	if (s != DOMAIN_RUNNING)
		return refuse(d, msg, len, -EBUSY);
	domain_end(d, "restarted by the operator", true, false, true);
	hv_snprintf(msg, len, "domain %s restarting", d->name);
	return 0;
}

/* Halt while *word == val; NMIs (a start, console input) wake it. */
static void wait_on(const volatile uint32_t *word, uint32_t val)
{
	while (__atomic_load_n(word, __ATOMIC_ACQUIRE) == val) {
		conin_on_nmi();
		nmi_wait(word, val);
	}
}

static void run_guest(struct vcpu *v)
{
	struct domain *d = v->dom;
	int err = vcpu_ops->vcpu_init(v, d->slat.root, d->id + 1);

	if (err) {
		char why[64];
		hv_snprintf(why, sizeof(why), "vCPU set-up on CPU %u failed (error %d)", v->cpu, err);
		domain_stop(d, why);
		return;
	}
	if (v == &d->vcpus[0] && !d->entered && d->cfg->autostart) {
		d->entered = true;	/* Under -icount: instructions (scripts/bench) */
		pr_info("boot: domain %s enters its kernel %llu TSC ticks after the hypervisor's entry\n",
			d->name, (unsigned long long)(rdtsc() - tsc_at_entry));
	}
	v->hlt_exiting = false;	/* as vcpu_init leaves it */
	vcpu_loop(v);
	lapic_reset_after_guest();
}

/* The first vCPU's CPU: from STARTING, (re)load the domain and let it go.
 * False if it could not be loaded (then it is stopped). */
static bool lead_start(struct domain *d)
{
	if (!d->loaded) {
		int err = domain_reload(d);
		if (err) {
			hv_snprintf(d->stop_reason, sizeof(d->stop_reason),
				    "its images could not be loaded (error %d)", err);
			pr_err("domain %s: not started (error %d)\n", d->name, err);
			domain_scrub(d);
			d->restart = false;
			set_state(d, DOMAIN_STOPPED);
			domain_gone(d->op_start);	/* the operator's start: they are there */
			d->op_start = false;
			return false;
		}
	}
	d->loaded = false;
	d->op_start = false;
	for (uint32_t i = 1; i < d->nvcpus; i++) {
		__atomic_store_n(&d->vcpus[i].state, VCPU_WAIT_SIPI, __ATOMIC_RELEASE);
		vcpu_kick(&d->vcpus[i]);	/* parked, halted */
	}
	/* Every parked vCPU has left its wait before the guest can stop
	 * again: each then parks, and is counted, once per stop. */
	while (__atomic_load_n(&d->parked, __ATOMIC_ACQUIRE)) {
		conin_on_nmi();
		cpu_relax();
	}
	d->started_tsc = rdtsc();
	d->crashed = false;
	__atomic_store_n(&d->running, true, __ATOMIC_RELEASE);
	set_state(d, DOMAIN_RUNNING);
	/* The first start at boot says nothing: the boot lines have it. */
	if (d->starts++ || !d->cfg->autostart)
		pr_info("domain %s %s\n", d->name, d->restart ? "restarted" : "started");
	d->restart = false;
	return true;
}

static __attribute__((noreturn)) void lead(struct vcpu *v)
{
	struct domain *d = v->dom;

	for (;;) {
		uint32_t s = state_of(d);
		switch (s) {
		case DOMAIN_STARTING:
			if (lead_start(d))
				run_guest(v);
			break;
		case DOMAIN_STOPPING:
		case DOMAIN_RESTARTING:
			/* Every other vCPU out of the guest, and the stop's
			 * own work (devices quiesced, its lines) done first. */
			while (__atomic_load_n(&d->parked, __ATOMIC_ACQUIRE) < d->nvcpus - 1 ||
			       !__atomic_load_n(&d->end_done, __ATOMIC_ACQUIRE)) {
				conin_on_nmi();
				cpu_relax();
			}
			d->end_done = false;
			domain_scrub(d);
			d->restart = s == DOMAIN_RESTARTING;
			if (s == DOMAIN_STOPPING)
				pr_info("domain %s: memory scrubbed, CPUs idle\n", d->name);
			set_state(d, s == DOMAIN_STOPPING ? DOMAIN_STOPPED : DOMAIN_STARTING);
			break;
		case DOMAIN_RUNNING:
			/* Out of the guest with the domain running: a stop is
			 * under way (its vCPU marked first), or it waits. */
			if (__atomic_load_n(&v->state, __ATOMIC_ACQUIRE) == VCPU_WAIT_SIPI)
				wait_on((const volatile uint32_t *)&v->state, VCPU_WAIT_SIPI);
			else if (__atomic_load_n(&v->state, __ATOMIC_ACQUIRE) == VCPU_STOPPED)
				cpu_relax();
			else
				run_guest(v);
			break;
		default:		/* NOT_STARTED, STOPPED: wait for `start` */
			wait_on(&d->state, s);
			break;
		}
	}
}

void domain_vcpu_run(struct vcpu *v)
{
	if (v == &v->dom->vcpus[0])
		lead(v);
	for (;;) {
		uint32_t s = __atomic_load_n(&v->state, __ATOMIC_ACQUIRE);
		if (s == VCPU_STOPPED) {
			/* Parked once per stop; the leader sets it going again
			 * and waits until every parked vCPU has left. */
			__atomic_add_fetch(&v->dom->parked, 1, __ATOMIC_ACQ_REL);
			wait_on((const volatile uint32_t *)&v->state, VCPU_STOPPED);
			__atomic_sub_fetch(&v->dom->parked, 1, __ATOMIC_ACQ_REL);
		} else if (s == VCPU_WAIT_SIPI) {
			/* Halted until the guest's SIPI (or a stop). */
			wait_on((const volatile uint32_t *)&v->state, VCPU_WAIT_SIPI);
		} else {
			run_guest(v);
		}
	}
}
