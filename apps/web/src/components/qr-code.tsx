import QRCode from 'qrcode';
import { useEffect, useRef, useState } from 'react';

/** A QR code of `text` (drawn on a canvas: no inline markup or data: images needed), with its PNG to download. */
export function QrCode({ text, fileName, label }: { text: string; fileName: string; label: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [png, setPng] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    const options = { errorCorrectionLevel: 'M' as const, margin: 2, color: { dark: '#000000', light: '#ffffff' } };
    if (canvas.current) void QRCode.toCanvas(canvas.current, text, { ...options, width: 176 });
    void QRCode.toDataURL(text, { ...options, width: 512 }).then((url) => live && setPng(url));
    return () => {
      live = false;
    };
  }, [text]);
  return (
    <figure className="qr">
      <canvas ref={canvas} role="img" aria-label={label} data-testid="qr-canvas" />
      <figcaption>
        {png ? (
          <a className="button small secondary" href={png} download={fileName}>
            Download QR code (PNG)
          </a>
        ) : null}
      </figcaption>
    </figure>
  );
}
