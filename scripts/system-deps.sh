#!/usr/bin/env bash
# System packages the workbench needs beyond Python: a CJK font (Chinese chart labels) and Java
# (Spark's local mode). Installed with apt-get when missing and we are root; otherwise we say so.
set -u
need=()
fc-list 2>/dev/null | grep -qi "Noto Sans CJK\|WenQuanYi" || need+=(fonts-noto-cjk fontconfig)
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing system packages: ${need[*]}"
  (apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null 2>&1 ||
   { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null; }) ||
   echo "warning: could not install ${need[*]}; Chinese chart labels or Spark may not work" >&2
else
  echo "warning: please install ${need[*]} (Chinese chart labels, Spark local mode)" >&2
fi
exit 0
