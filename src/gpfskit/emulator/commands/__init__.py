"""The emulated commands, one module per family; importing a module registers its commands.

``FAMILIES`` names the commands of each module, so that running one command imports only its
own module: a shell's ``mmlsfileset`` need not load the policy engine (numpy, pyarrow). A
test checks it against what the modules really register.
"""

FAMILIES: dict[str, tuple[str, ...]] = {
    "attributes": ("mmchattr", "mmlsattr"),
    "callbacks": ("mmaddcallback", "mmdelcallback", "mmlscallback"),
    "cluster": ("mmgetstate", "mmlscluster", "mmlsmgr", "mmlsnode"),
    "daemon": ("mmchnode", "mmshutdown", "mmstartup"),
    "exports": ("mmnfs", "mmsmb"),
    "filesets": ("mmchfileset", "mmcrfileset", "mmdelfileset", "mmlinkfileset", "mmlsfileset",
                 "mmunlinkfileset"),
    "filesystems": ("mmchfs", "mmlsfs", "mmlsmount", "mmmount", "mmumount", "mmunmount"),
    "nodeclasses": ("mmchnodeclass", "mmcrnodeclass", "mmdelnodeclass", "mmlsnodeclass"),
    "policy": ("mmapplypolicy", "mmchpolicy", "mmlspolicy"),
    "quotas": ("mmlsquota", "mmrepquota", "mmsetquota"),
    "snapshots": ("mmcrsnapshot", "mmdelsnapshot", "mmlssnapshot"),
    "storage": ("mmchdisk", "mmchpool", "mmdf", "mmlsdisk", "mmlsnsd", "mmlspool"),
}
