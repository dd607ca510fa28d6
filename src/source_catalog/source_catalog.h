/*-------------------------------------------------------------------------
 *
 * source_catalog.h
 *	  What tsmigrate knows of a source before reading its objects
 *
 * IDENTIFICATION
 *	  src/source_catalog/source_catalog.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TSM_SOURCE_CATALOG_H
#define TSM_SOURCE_CATALOG_H

/*
 * The oldest source whose catalogs tsmigrate reads: check_versions refuses
 * an older one and schema generation stops on it, with the same number.
 */
#define TSM_MIN_SOURCE_VERSION_NUM 130000

#endif							/* TSM_SOURCE_CATALOG_H */
