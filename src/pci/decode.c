/* SPDX-License-Identifier: MIT */
/*
 * decode.c - a function's memory decode and the users of its BARs who must
 * hear when it changes: the BAR dma-buf exporter revokes its buffers when
 * decode goes off (a PCI_COMMAND write, a reset) and when the function is
 * closed or its platform destroyed, and gives them back when decode comes
 * on, as VFIO does for its exported BARs (drivers/vfio/pci/vfio_pci_dmabuf.c:
 * vfio_pci_dma_buf_move(), vfio_pci_dma_buf_cleanup(); callers in
 * vfio_pci_config.c and vfio_pci_core.c).  Decode going off on a TDI in
 * CONFIG_LOCKED or RUN moves it to TDISP ERROR first (a configuration
 * change while locked), and a TDI that leaves RUN tells the users
 * (DML_PCI_BAR_LEFT_RUN, decode unchanged) so private MMIO is revoked.
 *
 * Locking: pdev->bar_users_lock guards the list and the decode state, and
 * is held across the users' callbacks, so an event is never delivered to
 * a user that has gone, and a user added during a change starts in the
 * state the change leaves.
 */
#include <dmalink/cc.h>
#include <dmalink/pci.h>

#include "pci.h"

void dml__pci_bar_user_add(struct dml_pci_dev *pdev, struct dml_pci_bar_user *u)
{
	pthread_mutex_lock(&pdev->bar_users_lock);
	u->next = pdev->bar_users;
	pdev->bar_users = u;
	if (pdev->decode_off)
		u->event(u, DML_PCI_BAR_DECODE_OFF);
	pthread_mutex_unlock(&pdev->bar_users_lock);
}

void dml__pci_bar_user_del(struct dml_pci_dev *pdev, struct dml_pci_bar_user *u)
{
	struct dml_pci_bar_user **pp;

	pthread_mutex_lock(&pdev->bar_users_lock);
	for (pp = &pdev->bar_users; *pp; pp = &(*pp)->next) {
		if (*pp == u) {
			*pp = u->next;
			break;
		}
	}
	pthread_mutex_unlock(&pdev->bar_users_lock);
}

void dml__pci_bar_event(struct dml_pci_dev *pdev, enum dml_pci_bar_event ev)
{
	struct dml_pci_bar_user *u, *next;

	pthread_mutex_lock(&pdev->bar_users_lock);
	if (ev == DML_PCI_BAR_DECODE_OFF || ev == DML_PCI_BAR_DECODE_ON) {
		bool off = ev == DML_PCI_BAR_DECODE_OFF;

		if (pdev->decode_off == off) {
			pthread_mutex_unlock(&pdev->bar_users_lock);
			return;
		}
		pdev->decode_off = off;
	}
	for (u = pdev->bar_users; u; u = next) {
		next = u->next;
		u->event(u, ev);
	}
	if (ev == DML_PCI_BAR_GONE)
		pdev->bar_users = NULL;
	pthread_mutex_unlock(&pdev->bar_users_lock);
	/*
	 * TDISP: decode going off is a configuration change of a locked TDI;
	 * its users have just revoked every buffer, so LEFT_RUN (sent by the
	 * error, which takes bar_users_lock) finds nothing more to do.
	 */
	if (ev == DML_PCI_BAR_DECODE_OFF)
		dml_tdisp_error(pdev);
}

int dml_pci_set_memory_decode(struct dml_pci_dev *pdev, bool enable)
{
	if (!pdev || pdev->type == DML_PCI_HOST_BRIDGE)
		return -EINVAL;
	if (pdev->plat->kind == DML_PLATFORM_VFIO)
		return -EOPNOTSUPP;	/* write PCI_COMMAND instead */
	dml__pci_bar_event(pdev, enable ? DML_PCI_BAR_DECODE_ON :
					  DML_PCI_BAR_DECODE_OFF);
	return 0;
}
