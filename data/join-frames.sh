#!/bin/sh
# join-frames.sh: an example on_job_done program for the bdfarm server. It
# joins a job's frames, in the order of their numbers, into a video beside
# them, BDFARM_JOB_FOLDER/NAME.mp4 for NAME.job, with ffmpeg if it is
# installed. Frames set aside (failed) are skipped, and so are negative
# frames. The frame rate is JOIN_FRAMES_RATE, 24 if unset. Set it up in
# bdfarm.conf as
#
#   on_job_done = ["/usr/local/etc/join-frames.sh"];
#
# Its output goes to the job's log.
set -eu

if ! command -v ffmpeg >/dev/null 2>&1; then
	echo "ffmpeg is not installed: no video made"
	exit 0
fi
: "${BDFARM_JOB:?is not set: run this as on_job_done}"
: "${BDFARM_JOB_FOLDER:?is not set: run this as on_job_done}"
rate=${JOIN_FRAMES_RATE:-24}
name=${BDFARM_JOB%.job}
cd "$BDFARM_JOB_FOLDER"

# The frames are named by the server: their number, then the extension of
# the format Blender wrote (0001.png, 12345.exr). The first one found
# tells the extension.
ext=
for f in [0-9]*.*; do
	case ${f%.*} in
	*[!0-9]*) continue ;;
	esac
	ext=${f##*.}
	break
done
if [ -z "$ext" ]; then
	echo "no frames in $BDFARM_JOB_FOLDER: no video made"
	exit 0
fi

# ffmpeg reads a sequence without gaps: link the frames there in order.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
for f in [0-9]*."$ext"; do
	case ${f%."$ext"} in
	*[!0-9]*) continue ;;
	esac
	printf '%s\n' "$f"
done | sort -n | while read -r f; do
	n=$((n + 1))
	ln -s "$PWD/$f" "$tmp/$(printf '%08d' "$n").$ext"
done
count=$(find "$tmp" -type l | wc -l)
if [ "${BDFARM_FAILED:-0}" != 0 ]; then
	echo "$BDFARM_FAILED frames were set aside: the video skips them"
fi

echo "joining $count frames into $name.mp4 at $rate frames a second"
ffmpeg -nostdin -y -loglevel error -framerate "$rate" \
	-i "$tmp/%08d.$ext" \
	-vf 'pad=ceil(iw/2)*2:ceil(ih/2)*2' -pix_fmt yuv420p \
	-f mp4 "$name.mp4.part"
mv -f "$name.mp4.part" "$name.mp4"
echo "made $BDFARM_JOB_FOLDER/$name.mp4"
