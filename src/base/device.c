/* SPDX-License-Identifier: MIT */
/*
 * device.c - the platform and device objects' own bookkeeping (see
 * device.h): the device list and the per-platform slots of upper layers.
 * Locking: p->lock guards the device list and slot creation; a slot's
 * object is read without it (published with a release store).
 */
#include "device.h"

void *dml__platform_slot_get(struct dml_platform *p, enum dml_platform_slot_id id,
			     void *(*create)(struct dml_platform *p),
			     void (*release)(void *obj))
{
	struct dml_platform_slot *s = &p->slot[id];
	void *obj = atomic_load_explicit(&s->obj, memory_order_acquire);

	if (likely(obj))
		return obj;
	pthread_mutex_lock(&p->lock);
	obj = atomic_load_explicit(&s->obj, memory_order_relaxed);
	if (!obj) {
		obj = create(p);
		if (obj) {
			s->release = release;
			atomic_store_explicit(&s->obj, obj, memory_order_release);
		}
	}
	pthread_mutex_unlock(&p->lock);
	return obj;
}

void dml__platform_release_slots(struct dml_platform *p)
{
	unsigned int i;

	for (i = DML_NR_SLOTS; i-- > 0;) {
		void *obj = atomic_exchange(&p->slot[i].obj, NULL);

		if (obj)
			p->slot[i].release(obj);
	}
}

void dml__device_add(struct dml_platform *p, struct dml_device *dev)
{
	dev->plat = p;
	pthread_mutex_lock(&p->lock);
	dev->next = p->devices;
	p->devices = dev;
	pthread_mutex_unlock(&p->lock);
}

void dml__device_del(struct dml_device *dev)
{
	struct dml_platform *p = dev->plat;
	struct dml_device **pp;

	pthread_mutex_lock(&p->lock);
	for (pp = &p->devices; *pp; pp = &(*pp)->next) {
		if (*pp == dev) {
			*pp = dev->next;
			break;
		}
	}
	pthread_mutex_unlock(&p->lock);
}
