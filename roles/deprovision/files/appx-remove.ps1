# goldenimage-step: appx-remove
# Removes per-user AppX packages for every user. Prints {"removed":[full names],"failed":[{"full_name","error"}]}.
$Config = '__CONFIG__' | ConvertFrom-Json
$ProgressPreference = 'SilentlyContinue'
$removed = @(); $failed = @()
foreach ($full in @($Config.packages)) {
    try { Remove-AppxPackage -Package $full -AllUsers -ErrorAction Stop; $removed += $full }
    catch { $failed += [ordered]@{ full_name = $full; error = $_.Exception.Message } }
}
ConvertTo-Json -InputObject ([ordered]@{ removed = $removed; failed = $failed }) -Compress -Depth 4
