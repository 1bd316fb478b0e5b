/* Emulated MMIO; see mmio.h. */
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "vmm/domain.h"
#include "vmm/exits.h"
#include "vmm/gwalk.h"
#include "vmm/insn.h"
#include "vmm/mmio.h"
#include "vmm/dev/pit_irq.h"
#include "vmm/passthrough.h"
#include "vmm/dev/vlapic.h"

#define PAGE_BYTES 4096ull

/* Guest-physical RAM of the domain, for the page walk and the fetch. */
static bool read_gpa(void *opaque, uint64_t gpa, void *buf, size_t len)
{
	const void *p = domain_gpa_to_hva(opaque, gpa, len);

	if (p)
		memcpy(buf, p, len);
	return p != NULL;
}

/* The instruction at CS:RIP. */
static int fetch_and_decode(struct vcpu *v, struct mmio_insn *in)
{
	struct vcpu_fetch_state f;

	vcpu_ops->fetch_state(v, &f);
	const struct gwalk w = {
		.cr0 = f.cr0, .cr3 = f.cr3, .cr4 = f.cr4, .efer = f.efer,
		.read_gpa = read_gpa, .opaque = v->dom,
	};
	uint8_t buf[INSN_MAX_LEN];
	int mode = f.mode;
	uint64_t rip = mode == 64 ? v->regs.rip :
		       (uint32_t)(f.cs_base +
				  (mode == 16 ? (uint16_t)v->regs.rip : (uint32_t)v->regs.rip));
	/* Up to the end of the page first: the next one may not be mapped.
	 * Those bytes are decoded where they are, in the domain's RAM: the
	 * decoder reads each byte once and checks every length itself, so a
	 * byte another vCPU changes meanwhile makes at worst a wrong decode
	 * for this domain. An instruction that runs on into the next page is
	 * copied together first. */
	size_t n = PAGE_BYTES - (rip & (PAGE_BYTES - 1));
	uint64_t gpa;
	const uint8_t *code = NULL;

	if (n > sizeof(buf))
		n = sizeof(buf);
	int err = gwalk_translate(&w, rip, &gpa);
	if (!err && !(code = domain_gpa_to_hva(v->dom, gpa, n)))
		err = trace_error(-EFAULT);
	if (!err)
		err = insn_decode_mmio(code, n, mode, in);
	if (err == -ENODATA) {
		err = gwalk_read(&w, rip, buf, sizeof(buf));
		if (!err)
			err = insn_decode_mmio(buf, sizeof(buf), mode, in);
	}
	return err;
}

bool mmio_exit(struct vcpu *v, const struct vm_exit *e)
{
	struct domain *d = v->dom;
	uint64_t gpa = e->mem.gpa;
	struct mmio_insn in;

	bool ioapic = gpa >= VIOAPIC_BASE && gpa < VIOAPIC_BASE + VIOAPIC_SIZE;
	/* The xAPIC page exists only in xAPIC mode (in x2APIC mode, or
	 * disabled, the LAPIC does not answer it: SDM Vol. 3A 11.12.1). */
	bool lapic = false;
	struct vmsi *msix = NULL;

	if (e->mem.exec)
		return false;
	if (!ioapic) {
		lapic = (gpa & ~(PAGE_BYTES - 1)) == VLAPIC_BASE && v->apic_mode == VLAPIC_XAPIC;
		if (!lapic && !passthrough_ecam_contains(d, gpa) &&
		    !(msix = passthrough_msix_find(d, gpa)))
			return false;
	}
	int err = fetch_and_decode(v, &in);
	if (err) {
		char why[96];
		d->mmio_refused++;
		hv_snprintf(why, sizeof(why),
			    "cannot emulate the access to GPA 0x%llx at RIP 0x%llx (error %d)",
			    (unsigned long long)gpa, (unsigned long long)v->regs.rip, err);
		domain_crash(d, why);
		return true;
	}
	uint64_t val = in.write ? insn_store_value(&v->regs, &in) : 0;
	uint32_t val32 = (uint32_t)val;
	bool pit_rte = false;
	if (ioapic) {
		spin_lock(&d->lock);
		vioapic_mmio(&d->ioapic, gpa - VIOAPIC_BASE, in.size, in.write, &val32);
		if (in.write && d->vpci.n)
			passthrough_intx_sync(d);
		/* Pin 2's entry (IRQ 0): who serves the PIT may change. */
		pit_rte = in.write && vioapic_pin_selected(&d->ioapic, 2);
		if (pit_rte)
			pit_irq_update(d, v);
		spin_unlock(&d->lock);
		val = val32;
	} else if (lapic) {
		/* The vCPU's own LAPIC: no lock (as its MSRs). */
		vlapic_mmio(v, (uint32_t)(gpa & (PAGE_BYTES - 1)), in.size, in.write, &val32);
		val = val32;
	} else {
		spin_lock(&d->lock);
		if (msix) {
			vmsi_msix_access(msix, gpa, in.size, in.write, &val);
		} else {
			passthrough_ecam_access(d, gpa, in.size, in.write, &val32);
			val = val32;
		}
		spin_unlock(&d->lock);
	}
	if (pit_rte)
		pit_irq_apply(v);
	if (!in.write)
		insn_complete_load(&v->regs, &in, val);
	vcpu_insn_done(v, in.len);
	return true;
}
