/* SPDX-License-Identifier: MIT */
/*
 * layout_file.h - captured physical memory layouts (`--layout file:PATH`),
 * internal side.  The format, struct dml_layout_file and the loader
 * dml_layout_file_load() are public API (dmalink/dmalink.h): a user of the
 * library may check or inspect a captured layout before replaying it.
 * layout_file.c implements the loader; layout.c replays what it loads.
 */
#ifndef DML_MEM_LAYOUT_FILE_H
#define DML_MEM_LAYOUT_FILE_H

#include <dmalink/dmalink.h>

#include "../base/base.h"

#endif /* DML_MEM_LAYOUT_FILE_H */
