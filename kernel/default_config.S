/*
 * The default configuration blob, built from guest-images/default.toml by
 * scripts/hvconfig at build time (the Makefile passes its path), so the
 * image boots with no configuration at all.
 */
	.section .rodata
	.balign 8
	.globl default_config_blob, default_config_blob_end
default_config_blob:
	.incbin DEFAULT_CONFIG_BLOB
default_config_blob_end:
