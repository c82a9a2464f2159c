"""Application services: the use cases callers invoke with a verified principal.

Every public async function here is declared with :func:`nexa_core.auth.requires`
(a test enumerates them and proves each one is guarded).
"""
