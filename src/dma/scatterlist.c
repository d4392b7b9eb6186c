/* SPDX-License-Identifier: MIT */
/*
 * scatterlist.c - building scatterlists (lib/scatterlist.c): one flat
 * array per table, no chaining, entries of 32 bytes as on 64-bit Linux.
 */
#include <string.h>

#include "dma.h"

void sg_init_table(struct scatterlist *sgl, unsigned int nents)
{
	memset(sgl, 0, sizeof(*sgl) * nents);
	if (nents)
		sgl[nents - 1].page_link = SG_END;
}

void sg_set_phys(struct scatterlist *sg, phys_addr_t phys, unsigned int len)
{
	sg->page_link = (phys & ~(u64)0xfff) | (sg->page_link & SG_END);
	sg->offset = (unsigned int)(phys & 0xfff);
	sg->length = len;
}

int sg_alloc_table(struct sg_table *table, unsigned int nents)
{
	memset(table, 0, sizeof(*table));
	if (!nents)
		return -EINVAL;
	table->sgl = dml__zalloc(sizeof(struct scatterlist) * nents);
	if (!table->sgl)
		return -ENOMEM;
	sg_init_table(table->sgl, nents);
	table->orig_nents = nents;
	table->nents = nents;
	return 0;
}

void sg_free_table(struct sg_table *table)
{
	dml__free(table->sgl);
	memset(table, 0, sizeof(*table));
}
