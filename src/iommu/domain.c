/* SPDX-License-Identifier: MIT */
/*
 * domain.c - the generic part of a DMA domain: the IOVA space over the
 * aperture (IOVA 0 never handed out), the reserved regions (the x86 MSI
 * window), and the flush queue in lazy mode.  Backends fill in ops,
 * pgsize_bitmap and the aperture, then call dml__domain_init().
 */
#include "domain.h"

#define MSI_WINDOW_START 0xfee00000ULL
#define MSI_WINDOW_END 0xfeefffffULL

int dml__domain_init(struct dml_domain *d, bool lazy)
{
	unsigned long start_pfn;
	int ret;

	if (!d->ops || !d->pgsize_bitmap || d->aperture_end <= d->aperture_start)
		return -EINVAL;
	d->granule_shift = dml__ffs64(d->pgsize_bitmap);
	d->granule = 1UL << d->granule_shift;
	start_pfn = max(1UL, (unsigned long)(d->aperture_start >> d->granule_shift));
	ret = dml__iova_domain_create(d->granule, start_pfn, &d->iovad);
	if (ret)
		return ret;
	/* threads' small mappings on lines of leaf entries of their own */
	dml__iova_set_block_refill(d->iovad, true);
	if (d->aperture_start <= MSI_WINDOW_END && d->aperture_end >= MSI_WINDOW_START) {
		ret = dml__iova_reserve(d->iovad, MSI_WINDOW_START >> d->granule_shift,
					MSI_WINDOW_END >> d->granule_shift);
		if (ret)
			goto err_iovad;
	}
	if (lazy) {
		d->fq = dml__fq_create();
		if (!d->fq) {
			ret = -ENOMEM;
			goto err_iovad;
		}
	}
	return 0;

err_iovad:
	dml__iova_domain_destroy(d->iovad);
	d->iovad = NULL;
	return ret;
}

void dml__domain_fini(struct dml_domain *d)
{
	if (d->fq)
		dml__fq_destroy(d);
	if (d->iovad)
		dml__iova_domain_destroy(d->iovad);
	d->fq = NULL;
	d->iovad = NULL;
}

void dml__domain_destroy(struct dml_domain *d)
{
	dml__domain_fini(d);
	d->ops->free(d);
}
