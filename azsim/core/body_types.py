"""ARM's request deserialisation: JSON types checked before any provider sees a body.

Real resource providers deserialise a request into typed models first, so a value of the wrong JSON type
never reaches their logic: it is answered with 400 ``InvalidRequestContent`` ("Error converting value ...
Path '...'"). Like Json.NET, numbers written as strings ("64") and booleans written as strings ("true")
are converted, so are numbers given where a string belongs (a tag ``42`` is ``"42"``), and ``null``
means "not given". Providers therefore only meet the types they expect.

The table is by property name (Azure models give a name the same type everywhere); the few names whose
type depends on where they stand are keyed by ``(parent, name)``. Unknown names pass untouched.
"""

from __future__ import annotations

import json

from .errors import ArmError

OBJECT, ARRAY, STRING, INT, BOOL = "object", "array", "string", "integer", "boolean"
# A name that is a number in one model and an enum string in another (a security rule's ``priority``
# is 100-4096, a VM's is "Spot"): numeric strings become numbers, other strings stay for the provider.
INT_OR_TEXT = "integer or string"

# name -> type; ARRAY entries name the element type in ARRAY_OF.
TYPES = {
    # the envelope
    "location": STRING, "tags": OBJECT, "properties": OBJECT, "sku": OBJECT, "zones": ARRAY, "plan": OBJECT,
    "identity": OBJECT, "extendedLocation": OBJECT, "name": STRING, "id": STRING,
    # virtual machines
    "hardwareProfile": OBJECT, "vmSize": STRING, "storageProfile": OBJECT, "imageReference": OBJECT,
    "osDisk": OBJECT, "dataDisks": ARRAY, "managedDisk": OBJECT, "osProfile": OBJECT, "networkProfile": OBJECT,
    "networkInterfaces": ARRAY, "linuxConfiguration": OBJECT, "windowsConfiguration": OBJECT, "ssh": OBJECT,
    "publicKeys": ARRAY, "securityProfile": OBJECT, "uefiSettings": OBJECT, "diagnosticsProfile": OBJECT,
    "bootDiagnostics": OBJECT, "computerName": STRING, "adminUsername": STRING, "adminPassword": STRING,
    "customData": STRING, "userData": STRING, "keyData": STRING, "path": STRING, "securityType": STRING,
    "publisher": STRING, "offer": STRING, "version": STRING, "exactVersion": STRING,
    "sharedGalleryImageId": STRING, "communityGalleryImageId": STRING, "caching": STRING,
    "createOption": STRING, "deleteOption": STRING, "storageAccountType": STRING, "osType": STRING,
    "lun": INT, "diskSizeGB": INT, "primary": BOOL, "disablePasswordAuthentication": BOOL,
    "secureBootEnabled": BOOL, "vTpmEnabled": BOOL, "enabled": BOOL, "diskEncryptionSet": OBJECT,
    "commandId": STRING, "script": ARRAY, "parameters": ARRAY,
    # disks, snapshots, images
    "creationData": OBJECT, "sourceResourceId": STRING, "sourceUri": STRING, "storageAccountId": STRING,
    "galleryImageReference": OBJECT, "tier": STRING, "diskIOPSReadWrite": INT, "diskMBpsReadWrite": INT,
    "diskIOPSReadOnly": INT, "diskMBpsReadOnly": INT, "maxShares": INT, "burstingEnabled": BOOL,
    "incremental": BOOL, "hyperVGeneration": STRING, "osState": STRING, "blobUri": STRING,
    "sourceVirtualMachine": OBJECT, "snapshot": OBJECT, "zoneResilient": BOOL, "supportedCapabilities": OBJECT,
    "networkAccessPolicy": STRING, "publicNetworkAccess": STRING, "encryption": OBJECT,
    # galleries
    "description": STRING, "identifier": OBJECT, "osDiskImage": OBJECT, "dataDiskImages": ARRAY,
    "publishingProfile": OBJECT, "targetRegions": ARRAY, "regionalReplicaCount": INT, "replicaCount": INT,
    "excludeFromLatest": BOOL, "endOfLifeDate": STRING, "source": OBJECT, "virtualMachineId": STRING,
    "safetyProfile": OBJECT, "allowDeletionOfReplicatedLocations": BOOL, "features": ARRAY, "value": STRING,
    "recommended": OBJECT, "vCPUs": OBJECT, "memory": OBJECT, "min": INT, "max": INT, "architecture": STRING,
    "purchasePlan": OBJECT, "disallowed": OBJECT, "diskTypes": ARRAY, "eula": STRING, "sharingProfile": OBJECT,
    "hostCaching": STRING, "sizeInGB": INT,
    # network
    "addressSpace": OBJECT, "addressPrefixes": ARRAY, "addressPrefix": STRING, "subnets": ARRAY,
    "subnet": OBJECT, "ipConfigurations": ARRAY, "publicIPAddress": OBJECT, "networkSecurityGroup": OBJECT,
    "securityRules": ARRAY, "priority": INT_OR_TEXT, "direction": STRING, "access": STRING, "protocol": STRING,
    "sourcePortRange": STRING, "destinationPortRange": STRING, "sourceAddressPrefix": STRING,
    "destinationAddressPrefix": STRING, "sourcePortRanges": ARRAY, "destinationPortRanges": ARRAY,
    "sourceAddressPrefixes": ARRAY, "destinationAddressPrefixes": ARRAY, "privateIPAddress": STRING,
    "privateIPAllocationMethod": STRING, "publicIPAllocationMethod": STRING, "publicIPAddressVersion": STRING,
    "privateIPAddressVersion": STRING, "idleTimeoutInMinutes": INT, "dnsSettings": OBJECT,
    "domainNameLabel": STRING, "enableAcceleratedNetworking": BOOL, "enableIPForwarding": BOOL,
}

# Names whose type depends on the object they stand in.
IN_PARENT = {
    ("imageReference", "sku"): STRING, ("identifier", "sku"): STRING, ("identifier", "offer"): STRING,
    ("properties", "plan"): STRING,  # a Marketplace agreement names its plan; a VM's plan is on the envelope
    ("tags", None): STRING,  # every tag value
    ("script", None): STRING, ("zones", None): STRING, ("addressPrefixes", None): STRING,
    ("diskTypes", None): STRING, ("sourcePortRanges", None): STRING, ("destinationPortRanges", None): STRING,
    ("sourceAddressPrefixes", None): STRING, ("destinationAddressPrefixes", None): STRING,
}
# Element type of arrays not listed in IN_PARENT: objects.
MAX_INT = 2 ** 31 - 1


def _error(value, wanted, path):
    shown = json.dumps(value)
    return ArmError(400, "InvalidRequestContent",
                    f"The request content was invalid and could not be deserialized: 'Error converting value "
                    f"{shown} to type '{wanted}'. Path '{path}'.'.", target=path)


def _convert(value, wanted, path):
    """``value`` as JSON type ``wanted``, with Json.NET's string conversions; raises InvalidRequestContent."""
    if wanted == OBJECT and isinstance(value, dict):
        return value
    if wanted == ARRAY and isinstance(value, list):
        return value
    if wanted == STRING:
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return str(value)  # Json.NET reads true as "True"
        if isinstance(value, (int, float)):
            return json.dumps(value)  # and 42 as "42"
    if wanted == INT_OR_TEXT:
        if isinstance(value, str) and not value.strip().lstrip("+-").isdigit():
            return value
        wanted = INT
    if wanted == INT:
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and value.strip().lstrip("+-").isdigit():
            number = int(value.strip())
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        else:
            raise _error(value, wanted, path)
        if abs(number) > MAX_INT:
            raise _error(value, wanted, path)
        return number
    if wanted == BOOL:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
    raise _error(value, wanted, path)


def _wanted(parent, name):
    if (parent, name) in IN_PARENT:
        return IN_PARENT[(parent, name)]
    if name is None:
        return IN_PARENT.get((parent, None), OBJECT)
    return TYPES.get(name)


def normalize(value, parent=None, path=""):
    """A checked, converted copy of a request body (the input is left as it is)."""
    if isinstance(value, dict):
        out = {}
        for name, item in value.items():
            if item is None:
                continue  # null = not given
            where = f"{path}.{name}" if path else name
            wanted = _wanted(parent, name) if parent != "tags" else STRING
            if wanted is not None:
                item = _convert(item, wanted, where)
            out[name] = normalize(item, name, where)
        return out
    if isinstance(value, list):
        out = []
        for index, item in enumerate(value):
            where = f"{path}[{index}]"
            if item is None:
                raise _error(item, _wanted(parent, None), where)
            item = _convert(item, _wanted(parent, None), where)
            out.append(normalize(item, None, where))
        return out
    return value
