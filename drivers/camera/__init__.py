"""Camera: a capture thread per camera over cv2.VideoCapture or a recorded source (video file,
folder of images, still image), with "latest frame wins" delivery. See drivers/camera/api.py."""
