/* SPDX-License-Identifier: MIT */
/*
 * platform.c - the confidential-computing option of an emulated platform:
 * dml_cc_platform_init() turns the flavour and bit position into the two
 * encoding masks of the memory (src/mem/encrypt.c), and cc_platform_has()
 * answers from them (arch/x86/coco/core.c).
 */
#include <dmalink/cc.h>
#include <pthread.h>

#include "../mem/mem.h"

int dml_cc_platform_init(struct dml_platform *p, enum dml_cc_flavour flavour,
			 unsigned int bit)
{
	u64 mask;
	int ret;

	if (!p || p->kind != DML_PLATFORM_EMU ||
	    (flavour != DML_CC_SEV && flavour != DML_CC_TDX))
		return -EINVAL;
	if (!bit)
		bit = flavour == DML_CC_SEV ? DML_CC_SEV_CBIT_DEFAULT :
					      DML_CC_TDX_SHARED_DEFAULT;
	if (bit < 32 || bit > 62)
		return -EINVAL;
	mask = 1ULL << bit;
	pthread_mutex_lock(&p->lock);
	if (p->devices)
		ret = -EBUSY;
	else if (flavour == DML_CC_SEV)
		ret = dml__mem_cc_init(p->mem, mask, 0);
	else
		ret = dml__mem_cc_init(p->mem, 0, mask);
	pthread_mutex_unlock(&p->lock);
	return ret;
}

bool cc_platform_has(struct dml_platform *p, enum cc_attr attr)
{
	if (!p || p->kind != DML_PLATFORM_EMU)
		return false;
	switch (attr) {
	case CC_ATTR_MEM_ENCRYPT:
	case CC_ATTR_GUEST_MEM_ENCRYPT:
		return dml__mem_cc(p->mem);
	}
	return false;
}
