# goldenimage-step: agent-services
# One poll of the role's bounded wait for the end of Windows setup (ImageState) and the Azure agent services.
# Prints {"image_state","services":[{"name","status","start_type"}]}.
$Config = '__CONFIG__' | ConvertFrom-Json
$ErrorActionPreference = 'Stop'
$state = (Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Setup\State' -ErrorAction SilentlyContinue).ImageState
$out = @(foreach ($name in @($Config.services)) {
    $svc = Get-Service -Name $name -ErrorAction SilentlyContinue
    if ($null -eq $svc) { [ordered]@{ name = $name; status = 'NotFound'; start_type = $null } }
    else { [ordered]@{ name = $name; status = [string]$svc.Status; start_type = [string]$svc.StartType } }
})
ConvertTo-Json -InputObject ([ordered]@{ image_state = $state; services = $out }) -Compress -Depth 4
