/*
 * The `torch` model plugin: TorchScript models through Debian's libtorch, behind the plain C
 * tables of ktrdr_plugin.h. No C++ type crosses this header; every C++ exception is caught
 * inside and returned as a message in a ktrdr_error.
 */
#ifndef KTRDR_TORCH_H
#define KTRDR_TORCH_H

#include "ktrdr_plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The plugin's exported descriptor (kind MODEL, name "torch"). */
const ktrdr_plugin_info *ktrdr_plugin_descriptor(void);

/* The libtorch version this plugin was built against, e.g. "1.13.0". */
const char *ktrdr_torch_version(void);

#ifdef __cplusplus
}
#endif
#endif
