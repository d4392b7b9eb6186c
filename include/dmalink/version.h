/* SPDX-License-Identifier: MIT */
/*
 * dmalink/version.h - the release of the dmalink headers, for code that
 * must build against several releases.  The shared library's soname is
 * libdmalink.so.DMALINK_VERSION_MAJOR.
 */
#ifndef DMALINK_VERSION_H
#define DMALINK_VERSION_H

/* DMALINK_VERSION_* - the release, equal to the build's project version */
#define DMALINK_VERSION_MAJOR 0
#define DMALINK_VERSION_MINOR 1
#define DMALINK_VERSION_PATCH 0

#endif /* DMALINK_VERSION_H */
