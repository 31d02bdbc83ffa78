# goldenimage-step: sysprep-state
# One poll of the Sysprep wait. Prints {"image_state","sysprep_running","succeeded_tag"}.
# The process is checked before the registry: once Sysprep has exited, the state read after it is final.
$running = [bool](Get-Process -Name sysprep -ErrorAction SilentlyContinue)
$state = (Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Setup\State' -ErrorAction SilentlyContinue).ImageState
$tag = Test-Path -LiteralPath (Join-Path $env:SystemRoot 'System32\Sysprep\Sysprep_succeeded.tag')
ConvertTo-Json -InputObject ([ordered]@{ image_state = $state; sysprep_running = $running; succeeded_tag = $tag }) -Compress
