# goldenimage-step: sysprep-logs
# Tails of Sysprep's logs. Prints {"setupact":[lines]|null,"setuperr":[lines]|null}.
$Config = '__CONFIG__' | ConvertFrom-Json
$dir = Join-Path $env:WINDIR 'System32\Sysprep\Panther'
$out = [ordered]@{}
foreach ($name in 'setupact', 'setuperr') {
    $file = Join-Path $dir "$name.log"
    if (Test-Path -LiteralPath $file) { $out[$name] = @(Get-Content -LiteralPath $file -Tail ([int]$Config.lines)) }
    else { $out[$name] = $null }
}
ConvertTo-Json -InputObject $out -Compress -Depth 3
