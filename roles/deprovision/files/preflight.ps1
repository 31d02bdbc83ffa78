# goldenimage-step: preflight
# Read-only check for what makes Sysprep fail. Prints {"image_state","appx_per_user":[{"name","full_name","users"}],
# "bitlocker":[{"mount_point","protection_status","conversion_status"}],"sysprep_present","sysprep_running",
# "build_account":{"name","exists","enabled","builtin","connection_user"} or null}.
$Config = '__CONFIG__' | ConvertFrom-Json
$ErrorActionPreference = 'Stop'; $ProgressPreference = 'SilentlyContinue'
$account = $null
if ($Config.build_user) {
    $u = Get-LocalUser -Name $Config.build_user -ErrorAction SilentlyContinue
    $account = [ordered]@{ name = $Config.build_user; exists = [bool]$u; enabled = [bool]($u -and $u.Enabled)
        builtin = [bool]($u -and $u.SID.Value.EndsWith('-500')); connection_user = $Config.build_user -eq [Environment]::UserName }
}
$state = (Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Setup\State' -ErrorAction SilentlyContinue).ImageState
$appx = @()
if (Get-Command -Name Get-AppxPackage -ErrorAction SilentlyContinue) {
    $prov = @{}
    Get-AppxProvisionedPackage -Online | ForEach-Object { $prov[$_.DisplayName] = [string]$_.Version }
    # Sysprep refuses packages installed for a user that are not provisioned for all users in that version (KB2769827).
    $appx = @(Get-AppxPackage -AllUsers | Where-Object {
        -not $_.IsFramework -and -not $_.NonRemovable -and [string]$_.SignatureKind -ne 'System' -and
        $prov[$_.Name] -ne [string]$_.Version } | ForEach-Object {
        [ordered]@{ name = $_.Name; full_name = $_.PackageFullName
            users = @($_.PackageUserInformation | Where-Object { [string]$_.InstallState -eq 'Installed' } |
                ForEach-Object { [string]$_.UserSecurityId.Username }) } })
}
$protection = @('Off', 'On', 'Unknown')
$conversion = @('FullyDecrypted', 'FullyEncrypted', 'EncryptionInProgress', 'DecryptionInProgress', 'EncryptionPaused', 'DecryptionPaused')
$volumes = @()
try {
    $volumes = @(Get-CimInstance -Namespace 'root\cimv2\Security\MicrosoftVolumeEncryption' -ClassName Win32_EncryptableVolume -ErrorAction Stop |
        ForEach-Object { $c = (Invoke-CimMethod -InputObject $_ -MethodName GetConversionStatus).ConversionStatus
            [ordered]@{ mount_point = $_.DriveLetter; protection_status = $protection[[int]$_.ProtectionStatus]; conversion_status = $conversion[[int]$c] } })
} catch { $volumes = @() }  # no BitLocker provider: nothing is encrypted by BitLocker
ConvertTo-Json -Compress -Depth 5 -InputObject ([ordered]@{
    image_state = $state; appx_per_user = $appx; bitlocker = $volumes
    sysprep_present = (Test-Path -LiteralPath (Join-Path $env:SystemRoot 'System32\Sysprep\Sysprep.exe'))
    sysprep_running = [bool](Get-Process -Name sysprep -ErrorAction SilentlyContinue); build_account = $account })
