/* MSI and MSI-X of a passed-through function; see vmsi.h. */
#include "drivers/iommu/iommu.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "vmm/dev/vmsi.h"

/* MSI capability (PCI 3.0 6.8.1): message control in bytes 2-3. */
#define MSI_ENABLE	0x0001u
#define MSI_MMC(c)	(((c) >> 1) & 7u)
#define MSI_MME_SHIFT	4
#define MSI_MME		0x0070u
#define MSI_64BIT	0x0080u
#define MSI_PVM		0x0100u
#define MSI_RO		(0x000eu | MSI_64BIT | MSI_PVM)	/* what the guest sees of the host's */
/* MSI-X capability (6.8.2): control, then table and PBA offset/BIR. */
#define MSIX_SIZE(c)	(((c) & 0x7ffu) + 1)
#define MSIX_FMASK	0x4000u
#define MSIX_ENABLE	0x8000u
#define MSIX_CAP_LEN	12
#define MSIX_BIR	7u
#define MSIX_ENTRY	16	/* address low, high, data, vector control */
#define MSIX_MASKBIT	1u
#define PAGE		4096ull

/* Message address and data (SDM Vol. 3A 11.11.1-11.11.2). */
#define MSG_BASE	0xfee00000ull
#define MSG_DEST(a)	(((a) >> 12) & 0xffu)
#define MSG_EXT_DEST	0x00000ff0ull	/* bits 11:4: extended destination, reserved */
#define MSG_RH		(1ull << 3)
#define MSG_DM		(1ull << 2)
#define DATA_LEVEL	(1u << 15)

static uint32_t merge(uint32_t old, uint32_t v, uint32_t lanes)
{
	return (old & ~lanes) | (v & lanes);
}

static const char *bdf(const struct vmsi *m, char *buf)
{
	return pci_bdf_str(m->host->seg, m->host->bus, m->host->devfn, buf);
}

/* The remapping entry for a guest message, or why there is none. */
static const char *translate(const struct vmsi *m, uint64_t addr, uint32_t data,
			     struct iommu_irq *irq)
{
	unsigned delivery = (data >> 8) & 7u;
	uint8_t vector = (uint8_t)data;
	uint32_t dest = (uint32_t)MSG_DEST(addr);

	if ((addr & ~0xfffffull) != MSG_BASE)
		return "is not an interrupt message address";
	if ((addr & MSG_EXT_DEST) || ((addr & MSG_DM) && !m->logical))
		return "uses logical or extended destinations";
	if (delivery > 1 || (data & DATA_LEVEL))
		return "is not a fixed or lowest-priority edge interrupt";
	if (vector < 16)
		return "has a reserved vector";
	/* A logical destination goes to the first vCPU it names (the
	 * remapping entry names one CPU): Linux aims each vector at one. */
	if (addr & MSG_DM)
		dest = m->logical(m->logical_ctx, dest);
	if (dest >= m->ncpus)
		return "aims at a CPU that is not the domain's";
	*irq = (struct iommu_irq){ .dest = m->cpus[dest], .vector = vector,
				   .lowest = delivery == 1 || (addr & MSG_RH) };
	return NULL;
}

/* Entry index: set from the guest's message (true), or blocked. A masked
 * vector is often half-written (address before data): its refusal is said
 * only once the guest unmasks it. The caller keeps a refused vector
 * masked at the device, so that a device cannot storm the IOMMU's fault
 * reporting (and the CPU that serves it) with messages nobody takes. */
static bool fill(struct vmsi *m, unsigned index, uint64_t addr, uint32_t data, const char *what,
		 unsigned n, bool masked)
{
	struct iommu_irq irq;
	const char *why = translate(m, addr, data, &irq);
	char name[16];

	if (iommu_irq_set(m->host->seg, m->host->rid, index, why ? NULL : &irq) && !why) {
		/* The unit refused it, or its invalidation did not complete:
		 * the entry must not keep its old target. */
		iommu_irq_set(m->host->seg, m->host->rid, index, NULL);
		why = "cannot be remapped by the IOMMU";
	}
	if (why && !masked && m->refused++ < 4)
		pr_info("domain %s: device %s %s %u: message 0x%llx/0x%x %s: blocked\n",
			m->host->owner ? m->host->owner : "?", bdf(m, name), what, n,
			(unsigned long long)addr, data, why);
	return !why;
}

static int reserve(struct vmsi *m, unsigned n)
{
	int idx = iommu_irq_alloc(m->host->seg, m->host->rid, n);
	char name[16];

	if (idx < 0 && !m->full) {
		m->full = true;
		pr_warn("domain %s: device %s: no interrupt remapping entry left (error %d): its interrupts stay off\n",
			m->host->owner ? m->host->owner : "?", bdf(m, name), idx);
	}
	return idx;
}

/* ---- MSI ---------------------------------------------------------- */

static unsigned msi_data_reg(const struct vmsi *m) { return m->msi + (m->msi64 ? 0xc : 8); }
static unsigned msi_mask_reg(const struct vmsi *m) { return msi_data_reg(m) + 4; }
static unsigned msi_len(const struct vmsi *m)
{
	return msi_data_reg(m) - m->msi + (m->msi_pvm ? 12 : 4);
}

/* The device's MSI registers and the entries after a guest change. */
static void msi_sync(struct vmsi *m)
{
	const struct pci_func *h = m->host;
	bool on = m->msi_ctrl & MSI_ENABLE;
	unsigned count = 1u << ((m->msi_ctrl & MSI_MME) >> MSI_MME_SHIFT);
	uint64_t addr = (uint64_t)m->msi_addr_hi << 32 | m->msi_addr_lo;
	uint16_t ctrl = (uint16_t)pci_read(h, m->msi + 2, 2);

	if (m->msi_irte < 0 && on) {
		int idx = reserve(m, m->msi_max);
		if (idx < 0)
			return;		/* MSI stays off at the device */
		m->msi_irte = (int16_t)idx;
	}
	if (m->msi_irte >= 0 && on) {
		/* The device's message every time (a function-level reset
		 * clears it). */
		struct iommu_msi msg;
		iommu_irq_msi(h->seg, h->rid, (unsigned)m->msi_irte, &msg);
		pci_write(h, m->msi + 4, 4, (uint32_t)msg.addr);
		if (m->msi64)
			pci_write(h, m->msi + 8, 4, (uint32_t)(msg.addr >> 32));
		pci_write(h, msi_data_reg(m), 2, msg.data);
	}
	m->msi_blocked = 0;
	if (m->msi_irte >= 0)
		for (unsigned k = 0; k < m->msi_max; k++) {
			unsigned index = (unsigned)m->msi_irte + k;
			if (on && k < count) {
				if (!fill(m, index, addr, (m->msi_data & ~(count - 1)) | k, "MSI vector",
					  k, m->msi_pvm && (m->msi_mask & (1u << k))))
					m->msi_blocked |= 1u << k;
			} else {
				iommu_irq_set(h->seg, h->rid, index, NULL);
			}
		}
	/* Refused vectors stay quiet at the device: masked with per-vector
	 * masks, else MSI off there while the guest sees it on. */
	if (m->msi_pvm)
		pci_write(h, msi_mask_reg(m), 4, m->msi_mask | m->msi_blocked);
	bool dev_on = m->msi_irte >= 0 && (m->msi_pvm || !m->msi_blocked);
	ctrl = (uint16_t)((ctrl & ~(MSI_ENABLE | MSI_MME)) |
			  (dev_on ? m->msi_ctrl & (MSI_ENABLE | MSI_MME) : 0));
	pci_write(h, m->msi + 2, 2, ctrl);
}

static uint32_t msi_read(const struct vmsi *m, unsigned reg)
{
	const struct pci_func *h = m->host;
	unsigned o = reg - m->msi;

	if (o == 0)
		return (pci_read(h, m->msi, 4) & (0xffffu | (uint32_t)MSI_RO << 16)) |
		       (uint32_t)m->msi_ctrl << 16;
	if (o == 4)
		return m->msi_addr_lo;
	if (o == 8 && m->msi64)
		return m->msi_addr_hi;
	if (reg == msi_data_reg(m))
		return m->msi_data;
	if (reg == msi_mask_reg(m))
		return m->msi_mask;
	return pci_read(h, reg, 4);	/* pending bits */
}

static void msi_write(struct vmsi *m, unsigned reg, uint32_t v, uint32_t lanes)
{
	unsigned o = reg - m->msi;

	if (o == 0) {
		if (!(lanes & 0xffff0000u))
			return;
		uint16_t c = (uint16_t)(merge((uint32_t)m->msi_ctrl << 16, v, lanes) >> 16);
		unsigned mme = (c & MSI_MME) >> MSI_MME_SHIFT;
		unsigned mmc = MSI_MMC(pci_read(m->host, m->msi + 2, 2));
		if (mme > mmc)
			mme = mmc;	/* more than it asked for: what it asked for */
		m->msi_ctrl = (uint16_t)((c & MSI_ENABLE) | mme << MSI_MME_SHIFT);
	} else if (o == 4) {
		m->msi_addr_lo = merge(m->msi_addr_lo, v, lanes) & ~3u;
	} else if (o == 8 && m->msi64) {
		m->msi_addr_hi = merge(m->msi_addr_hi, v, lanes);
	} else if (reg == msi_data_reg(m)) {
		m->msi_data = (uint16_t)merge(m->msi_data, v, lanes);
	} else if (reg == msi_mask_reg(m) && m->msi_pvm) {
		m->msi_mask = merge(m->msi_mask, v, lanes) & ((1ull << m->msi_max) - 1);
		pci_write(m->host, reg, 4, m->msi_mask | m->msi_blocked);
		return;
	} else {
		return;		/* pending bits: read-only */
	}
	msi_sync(m);
}

/* ---- MSI-X -------------------------------------------------------- */

static volatile uint32_t *dev_word(const struct vmsi *m, uint64_t pa)
{
	return (volatile uint32_t *)(uintptr_t)((intptr_t)pa + m->io_delta);
}

/* Entry i's message or mask changed (msg: the message did). */
static void msix_sync(struct vmsi *m, unsigned i, bool msg)
{
	bool masked = m->ent[i].ctrl & MSIX_MASKBIT;
	struct vmsix_entry *e = &m->ent[i];
	volatile uint32_t *dev = dev_word(m, m->table + (uint64_t)i * MSIX_ENTRY);

	if (e->irte < 0) {
		int idx = reserve(m, 1);
		if (idx < 0)
			return;		/* its device entry stays masked */
		e->irte = (int16_t)idx;
		msg = true;
	}
	if (msg) {
		/* The device's message every time (a function-level reset
		 * clears it), written while the entry is masked. */
		struct iommu_msi out;
		iommu_irq_msi(m->host->seg, m->host->rid, (unsigned)e->irte, &out);
		dev[3] = MSIX_MASKBIT;
		dev[0] = (uint32_t)out.addr;
		dev[1] = (uint32_t)(out.addr >> 32);
		dev[2] = out.data;
	}
	if (msg || !masked)	/* a message to check, or one now in use */
		e->blocked = !fill(m, (unsigned)e->irte, (uint64_t)e->addr_hi << 32 | e->addr_lo,
				   e->data, "MSI-X entry", i, masked);
	dev[3] = (masked || e->blocked) ? MSIX_MASKBIT : 0;	/* refused: quiet */
}

static uint32_t *entry_word(struct vmsix_entry *e, unsigned w)
{
	return w == 0 ? &e->addr_lo : w == 1 ? &e->addr_hi : w == 2 ? &e->data : &e->ctrl;
}

/* One dword of the table: off is its offset in the table. */
static uint32_t msix_table_read(struct vmsi *m, uint64_t off)
{
	return *entry_word(&m->ent[off / MSIX_ENTRY], (unsigned)(off % MSIX_ENTRY) / 4);
}

static void msix_table_write(struct vmsi *m, uint64_t off, uint32_t v, uint32_t lanes)
{
	unsigned i = (unsigned)(off / MSIX_ENTRY), w = (unsigned)(off % MSIX_ENTRY) / 4;
	uint32_t *p = entry_word(&m->ent[i], w);
	uint32_t old = *p;

	*p = merge(*p, v, lanes);
	if (w == 3)
		*p &= MSIX_MASKBIT;	/* the rest is reserved */
	if (w == 0)
		*p &= ~3u;		/* dword aligned */
	if (*p != old || m->ent[i].irte < 0)
		msix_sync(m, i, w != 3);
}

bool vmsi_msix_contains(const struct vmsi *m, uint64_t gpa)
{
	for (unsigned k = 0; m->msix && k < 2; k++)
		if (gpa >= m->trap_lo[k] && gpa < m->trap_hi[k])
			return true;
	return false;
}

static uint64_t table_end(const struct vmsi *m) { return m->table + (uint64_t)m->msix_n * MSIX_ENTRY; }
static uint64_t pba_end(const struct vmsi *m) { return m->pba + ((m->msix_n + 63u) / 64u) * 8u; }

/* One naturally aligned access of at most 4 bytes. */
static void msix_access4(struct vmsi *m, uint64_t gpa, unsigned size, bool write, uint32_t *val)
{
	unsigned shift = 8 * (unsigned)(gpa & 3);
	uint32_t lanes = (size == 4 ? 0xffffffffu : ((1u << (8 * size)) - 1)) << shift;
	uint64_t dw = gpa & ~3ull;

	if (dw >= m->table && dw < table_end(m)) {
		if (write)
			msix_table_write(m, dw - m->table, *val << shift, lanes);
		else
			*val = (msix_table_read(m, dw - m->table) & lanes) >> shift;
		return;
	}
	bool pba = dw >= m->pba && dw < pba_end(m);
	volatile void *p = (volatile void *)(uintptr_t)((intptr_t)gpa + m->io_delta);
	if (write) {
		if (pba)
			return;	/* read-only */
		if (size == 1)
			*(volatile uint8_t *)p = (uint8_t)*val;
		else if (size == 2)
			*(volatile uint16_t *)p = (uint16_t)*val;
		else
			*(volatile uint32_t *)p = *val;
	} else {
		*val = size == 1 ? *(volatile uint8_t *)p :
		       size == 2 ? *(volatile uint16_t *)p : *(volatile uint32_t *)p;
	}
}

void vmsi_msix_access(struct vmsi *m, uint64_t gpa, unsigned size, bool write, uint64_t *val)
{
	bool ok = (size == 1 || size == 2 || size == 4 || size == 8) && !(gpa & (size - 1));

	if (!ok || !vmsi_msix_contains(m, gpa)) {
		if (!write)
			*val = ~0ull;
		return;
	}
	if (size < 8) {
		uint32_t v = (uint32_t)*val;
		msix_access4(m, gpa, size, write, &v);
		if (!write)
			*val = v;
		return;
	}
	uint32_t lo = (uint32_t)*val, hi = (uint32_t)(*val >> 32);
	msix_access4(m, gpa, 4, write, &lo);
	msix_access4(m, gpa + 4, 4, write, &hi);
	if (!write)
		*val = (uint64_t)hi << 32 | lo;
}

static uint32_t msix_read(const struct vmsi *m, unsigned reg)
{
	uint32_t v = pci_read(m->host, reg, 4);

	if (reg == m->msix)
		v = (v & ~((uint32_t)(MSIX_FMASK | MSIX_ENABLE) << 16)) | (uint32_t)m->msix_ctrl << 16;
	return v;
}

static void msix_write(struct vmsi *m, unsigned reg, uint32_t v, uint32_t lanes)
{
	if (reg != m->msix || !(lanes & 0xffff0000u))
		return;		/* table and PBA locations are read-only */
	m->msix_ctrl = (uint16_t)(merge((uint32_t)m->msix_ctrl << 16, v, lanes) >> 16) &
		       (MSIX_FMASK | MSIX_ENABLE);
	uint16_t c = (uint16_t)pci_read(m->host, m->msix + 2, 2);
	pci_write(m->host, m->msix + 2, 2, (uint16_t)((c & ~(MSIX_FMASK | MSIX_ENABLE)) | m->msix_ctrl));
}

/* ---- the capabilities --------------------------------------------- */

unsigned vmsi_msix_size(const struct pci_func *h)
{
	return h->cap_msix ? MSIX_SIZE(pci_read(h, h->cap_msix + 2, 2)) : 0;
}

static uint64_t bir_base(const struct pci_func *h, uint32_t v)
{
	unsigned bir = v & MSIX_BIR;
	return bir < h->nbars ? h->bar[bir].base : 0;
}

void vmsi_init(struct vmsi *m, const struct pci_func *h, bool msi, bool msix,
	       struct vmsix_entry *ent, const uint32_t *cpus, uint32_t ncpus, intptr_t io_delta)
{
	memset(m, 0, sizeof(*m));
	m->host = h;
	m->msi_irte = -1;
	m->io_delta = io_delta;
	for (uint32_t i = 0; i < ncpus && i < VMSI_MAX_CPUS; i++)
		m->cpus[m->ncpus++] = cpus[i];
	if (msi && h->cap_msi) {
		uint16_t c = (uint16_t)pci_read(h, h->cap_msi + 2, 2);
		m->msi = h->cap_msi;
		m->msi64 = c & MSI_64BIT;
		m->msi_pvm = c & MSI_PVM;
		m->msi_max = (uint8_t)(1u << (MSI_MMC(c) > 5 ? 5 : MSI_MMC(c)));
	}
	if (msix && h->cap_msix && ent) {
		uint32_t t = pci_read(h, h->cap_msix + 4, 4), p = pci_read(h, h->cap_msix + 8, 4);
		m->msix = h->cap_msix;
		m->msix_n = (uint16_t)vmsi_msix_size(h);
		m->table = bir_base(h, t) + (t & ~MSIX_BIR);
		m->pba = bir_base(h, p) + (p & ~MSIX_BIR);
		m->trap_lo[0] = m->table & ~(PAGE - 1);
		m->trap_hi[0] = (table_end(m) + PAGE - 1) & ~(PAGE - 1);
		m->trap_lo[1] = m->pba & ~(PAGE - 1);
		m->trap_hi[1] = (pba_end(m) + PAGE - 1) & ~(PAGE - 1);
		m->ent = ent;
		for (unsigned i = 0; i < m->msix_n; i++)
			ent[i] = (struct vmsix_entry){ .ctrl = MSIX_MASKBIT, .irte = -1 };
	}
}

unsigned vmsi_msi_len(const struct vmsi *m)
{
	return m->msi ? msi_len(m) : 0;
}

bool vmsi_cfg_owns(const struct vmsi *m, unsigned reg)
{
	return (m->msi && reg >= m->msi + 2u && reg < m->msi + msi_len(m)) ||
	       (m->msix && reg >= m->msix + 2u && reg < m->msix + (unsigned)MSIX_CAP_LEN);
}

uint32_t vmsi_cfg_read(const struct vmsi *m, unsigned reg)
{
	if (m->msi && reg >= m->msi && reg < m->msi + msi_len(m))
		return msi_read(m, reg);
	return msix_read(m, reg);
}

void vmsi_cfg_write(struct vmsi *m, unsigned reg, uint32_t v, uint32_t lanes)
{
	if (m->msi && reg >= m->msi && reg < m->msi + msi_len(m))
		msi_write(m, reg, v, lanes);
	else if (m->msix && reg >= m->msix && reg < m->msix + (unsigned)MSIX_CAP_LEN)
		msix_write(m, reg, v, lanes);
}

void vmsi_reset(struct vmsi *m)
{
	const struct pci_func *h = m->host;

	if (!h)
		return;
	if (m->msi) {
		m->msi_ctrl = 0;
		m->msi_addr_lo = m->msi_addr_hi = m->msi_mask = 0;
		m->msi_data = 0;
		msi_sync(m);	/* device off, entries blocked */
		if (m->msi_pvm)
			pci_write(h, msi_mask_reg(m), 4, 0);
	}
	if (m->msix) {
		m->msix_ctrl = 0;
		uint16_t c = (uint16_t)pci_read(h, m->msix + 2, 2);
		pci_write(h, m->msix + 2, 2, (uint16_t)(c & ~(MSIX_FMASK | MSIX_ENABLE)));
		for (unsigned i = 0; i < m->msix_n; i++) {
			struct vmsix_entry *e = &m->ent[i];
			if (e->irte >= 0) {
				iommu_irq_set(h->seg, h->rid, (unsigned)e->irte, NULL);
				dev_word(m, m->table + (uint64_t)i * MSIX_ENTRY)[3] = MSIX_MASKBIT;
			}
			*e = (struct vmsix_entry){ .ctrl = MSIX_MASKBIT, .irte = e->irte };
		}
	}
	m->refused = 0;
}

void vmsi_release(struct vmsi *m)
{
	const struct pci_func *h = m->host;

	if (!h)
		return;
	vmsi_reset(m);
	if (m->msi_irte >= 0)
		iommu_irq_free(h->seg, h->rid, (unsigned)m->msi_irte, m->msi_max);
	m->msi_irte = -1;
	for (unsigned i = 0; m->msix && i < m->msix_n; i++)
		if (m->ent[i].irte >= 0) {
			iommu_irq_free(h->seg, h->rid, (unsigned)m->ent[i].irte, 1);
			m->ent[i].irte = -1;
		}
}
