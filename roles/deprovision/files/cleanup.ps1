# goldenimage-step: cleanup
# Deletes answer files and setup leftovers (and a stale Sysprep_succeeded.tag).
# Prints {"removed":[paths],"failed":[{"path","error"}],"remaining":[paths]}.
$Config = '__CONFIG__' | ConvertFrom-Json
$ProgressPreference = 'SilentlyContinue'
$removed = @(); $failed = @(); $remaining = @()
$paths = @(@($Config.paths) | ForEach-Object { [Environment]::ExpandEnvironmentVariables($_) })
foreach ($path in $paths + (Join-Path $env:SystemRoot 'System32\Sysprep\Sysprep_succeeded.tag')) {
    if (Test-Path -LiteralPath $path) {
        try { Remove-Item -LiteralPath $path -Recurse -Force -ErrorAction Stop; $removed += $path }
        catch { $failed += [ordered]@{ path = $path; error = $_.Exception.Message } }
    }
}
foreach ($path in $paths) { if (Test-Path -LiteralPath $path) { $remaining += $path } }
ConvertTo-Json -InputObject ([ordered]@{ removed = $removed; failed = $failed; remaining = $remaining }) -Compress -Depth 4
