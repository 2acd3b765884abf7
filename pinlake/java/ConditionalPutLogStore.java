package pinlake.delta;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.util.Iterator;

import io.delta.storage.HadoopFileSystemLogStore;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FSDataOutputStreamBuilder;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.s3a.RemoteFileChangedException;

/**
 * Delta's log store for S3-compatible object stores, safe with any number of writers.
 *
 * <p>A commit is the object {@code _delta_log/<version>.json}, and two writers must never both
 * create the same one. Delta's own S3 log store checks that the object is absent and then puts
 * it, which is safe only inside one JVM (it locks there): a second process between the check and
 * the put overwrites the first one's commit, which is then lost. Here the put itself is
 * conditional (S3's {@code If-None-Match: *}, through S3A's conditional create): the store
 * refuses it with 412 when the object exists, and that refusal becomes the
 * {@link FileAlreadyExistsException} on which Delta re-reads the log, checks for conflicts and
 * retries at the next version.
 */
public class ConditionalPutLogStore extends HadoopFileSystemLogStore {

  /** S3A's builder option for a create that fails when the object exists (Hadoop 3.5). */
  static final String CONDITIONAL_CREATE = "fs.option.create.conditional.overwrite";

  public ConditionalPutLogStore(Configuration hadoopConf) {
    super(hadoopConf);
  }

  @Override
  public void write(Path path, Iterator<String> actions, Boolean overwrite, Configuration hadoopConf)
      throws IOException {
    FileSystem fs = path.getFileSystem(hadoopConf);
    if (overwrite) {  // only for files every writer may replace (_last_checkpoint)
      try (FSDataOutputStream out = fs.create(path, true)) {
        writeLines(out, actions);
      }
      return;
    }
    try {
      FSDataOutputStreamBuilder<?, ?> create = fs.createFile(path).overwrite(false);
      create.must(CONDITIONAL_CREATE, true);
      try (FSDataOutputStream out = (FSDataOutputStream) create.build()) {
        writeLines(out, actions);
      }  // the PUT happens on close
    } catch (RemoteFileChangedException | org.apache.hadoop.fs.FileAlreadyExistsException e) {
      FileAlreadyExistsException taken = new FileAlreadyExistsException(path.toString());
      taken.initCause(e);
      throw taken;
    }
  }

  private static void writeLines(FSDataOutputStream out, Iterator<String> actions) throws IOException {
    while (actions.hasNext()) {
      out.write((actions.next() + "\n").getBytes(StandardCharsets.UTF_8));
    }
  }

  /** An object appears whole on close, or not at all. */
  @Override
  public Boolean isPartialWriteVisible(Path path, Configuration hadoopConf) {
    return false;
  }
}
